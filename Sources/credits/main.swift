import ArgumentParser
import CreditsStore
print("x")
