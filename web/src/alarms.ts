// The alarm kinds the API names (core/prepaid.hpp AlarmKindName), in the order staff scan them:
// money first, then devices. Labels are i18n keys 'alarm.<kind>'.
export const alarmKinds = [
  'low_balance_1',
  'low_balance_2',
  'low_balance_3',
  'arrears_trip',
  'trip_held',
  'keep_power',
  'forced_trip',
  'purchase_count_mismatch',
  'payment_mismatch',
  'meter_offline',
  'gateway_offline',
  'relay_mismatch',
  'command_failed',
  'clock_drift',
  'battery_low',
  'reading_quarantined',
  'meter_reset_suspected',
] as const
