import MCDNSCommands

await MCDNSCommand.main()
