from long1k.cli import main

main()
