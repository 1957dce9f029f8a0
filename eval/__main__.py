import sys

# `python -m eval run ...` (the harness), `fit` (the reader stage's decisions), `fit-reader` (the reader),
# `ablate` (what each part of the pick adds), `record` (CI thresholds from a run's figures),
# `diff` (which answers changed between two runs)
if len(sys.argv) > 1 and sys.argv[1] == "fit":
    from eval.fit import main

    raise SystemExit(main(sys.argv[2:]))
if len(sys.argv) > 1 and sys.argv[1] == "fit-reader":
    from eval.fit_reader import main

    raise SystemExit(main(sys.argv[2:]))
if len(sys.argv) > 1 and sys.argv[1] == "ablate":
    from eval.ablate import main

    raise SystemExit(main(sys.argv[2:]))
if len(sys.argv) > 1 and sys.argv[1] == "diff":
    from eval.diff import main

    raise SystemExit(main(sys.argv[2:]))
if len(sys.argv) > 1 and sys.argv[1] == "record":
    from eval.record import main

    raise SystemExit(main(sys.argv[2:]))
from eval.run import main

raise SystemExit(main())
