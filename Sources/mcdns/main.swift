import MCDNSCommands

MCDNSCommand.start()
