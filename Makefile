# The two commands of the README's first screen. Each installs the Debian packages it needs when
# they are missing (scripts/install-deps), then runs.
.PHONY: demo test

demo:
	@scripts/install-deps demo
	swift run passback demo

test:
	@scripts/install-deps test
	@scripts/test
