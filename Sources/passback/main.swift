import ArgumentParser
import OneRosterSandbox
print("hi")
