"""foliodb: a portfolio database and analytics engine.

import foliodb
db = foliodb.connect("sqlite:///my.db", create=True)
db.create_portfolio("Main", base_currency="CAD")
"""

from foliodb.database import Database, connect
from foliodb.errors import FoliodbError, InputError, NotFoundError

__all__ = ["Database", "FoliodbError", "InputError", "NotFoundError", "connect"]
__version__ = "0.1.0"
