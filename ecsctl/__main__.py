from ecsctl.cli import main

main()
