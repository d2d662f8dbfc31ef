import MCDNSCommands

await MCDNSCommand.start()
