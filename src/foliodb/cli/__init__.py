"""The `foliodb` command line: parse, call one service, render."""
