// DNSServer
