-- Active IDE users in August 2026, by week (weeks from August 1, the last one clipped to August 31).
select *
from ({{ dwell_activity_report('2026-08-01', '2026-09-01', '1 week', 'ide') }}) as report
order by is_total, bucket_start, user_id
