// MCDNSDaemon
