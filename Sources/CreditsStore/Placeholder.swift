import CreditsCore
import SQLKit
import SQLiteKit
import Crypto
