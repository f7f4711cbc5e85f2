"""`python -m portcheck` runs the same entry point as the console script."""

from portcheck.cli import main

if __name__ == "__main__":
    main()
