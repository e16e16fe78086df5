from wxsim.cli import main

main()
