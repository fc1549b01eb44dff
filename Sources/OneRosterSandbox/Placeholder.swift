import OneRoster
import Hummingbird
