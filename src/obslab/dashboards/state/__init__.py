"""Dashboard state: one param.Parameterized class per page, with no Panel import (keep this file free of imports)."""
