// DNSTestSupport
