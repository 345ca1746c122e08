"""The API's routes, one module per domain: each route parses, opens the transaction, calls one service, serialises."""
