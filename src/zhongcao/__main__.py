from zhongcao.cli import main

main()
