"""Registry pages: places, residents, the register, and spreadsheet import and export."""
