-- An account's day totals in one index range (issue 5) [ALM-4]: the account detail shows today's
-- usage and cost and forecasts the days left from the last days' deductions, on every view.
CREATE INDEX meter_days_by_account ON meter_days(account_id, day);
