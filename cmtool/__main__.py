from cmtool.cli.app import main

main()
