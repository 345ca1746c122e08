"""obslab: observatory operations on the Jupyter stack."""

from obslab.astro import configure_astropy_offline

__version__ = "0.1.0"

# Every code path must work with no internet: configure astropy before anything can use it.
configure_astropy_offline()
