"""Registry pages: places (drill-down), residents and the register, and spreadsheet import/export."""
