-- The dispatch table adds up a year's entitlements per area and item: this
-- index holds everything it reads, so the scan never touches the table.
CREATE INDEX entitlements_household_year ON entitlements (household_id, stat_year, item_code, expected_fen);
