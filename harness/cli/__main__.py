from drillbook.harness.cli import main

raise SystemExit(main())
