def main() -> None:
    raise SystemExit("wxsim: not built yet")
