from syndicate.cli import main

if __name__ == "__main__":
    main(prog_name="syndicate")  # usage lines and completion say `syndicate`
