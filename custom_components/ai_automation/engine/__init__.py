"""The pure analysis core: numpy in, frozen dataclasses out.

Nothing under this package imports Home Assistant; the shell hands it columnar arrays
and the home's time zone and gets plain data back.
"""
