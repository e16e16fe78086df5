from liucun.cli import main

main()
