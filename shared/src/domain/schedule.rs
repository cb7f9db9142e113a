//! When a scheduled transaction falls due: its frequencies (YNAB's thirteen, spelled as YNAB
//! spells them) and the date of its k-th occurrence, counted from its first date.
//!
//! Every occurrence is computed from the first date, never from the one before, so a monthly
//! schedule on the 31st lands on the last day of a shorter month and returns to the 31st after it;
//! a yearly one on 29 February lands on the 28th in common years. The rules:
//! - `daily`, `weekly`, `everyOtherWeek`, `every4Weeks`: every 1, 7, 14 or 28 days.
//! - `monthly`, `everyOtherMonth`, `every3Months`, `every4Months`, `twiceAYear`, `yearly`,
//!   `everyOtherYear`: every 1, 2, 3, 4, 6, 12 or 24 months, on the first date's day (or the
//!   month's last day when it has fewer).
//! - `twiceAMonth`: two days each month, 15 days apart: the first date's day and the day 15 after
//!   it (from the 1st to the 15th), or 15 before it (from the 16th on); the later one moves to the
//!   month's last day when the month is shorter. So the 15th pairs with the 30th, the 31st with the
//!   16th.
//! - `never`: the first date only.
//!
//! [`occurrence_sql`] writes the same rule as a SQL expression for the statements that create
//! occurrences and show what is still to come; a test proves the two agree, date for date.

use chrono::{Datelike, Days, Months, NaiveDate};

use super::enums::SqlEnum;

super::enums::sql_enum! {
    /// How often a scheduled transaction repeats.
    Frequency {
        Never => "never",
        Daily => "daily",
        Weekly => "weekly",
        EveryOtherWeek => "everyOtherWeek",
        TwiceAMonth => "twiceAMonth",
        Every4Weeks => "every4Weeks",
        Monthly => "monthly",
        EveryOtherMonth => "everyOtherMonth",
        Every3Months => "every3Months",
        Every4Months => "every4Months",
        TwiceAYear => "twiceAYear",
        Yearly => "yearly",
        EveryOtherYear => "everyOtherYear",
    }
}

/// How a frequency steps from one occurrence to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Only the first date.
    Once,
    Days(u32),
    Months(u32),
    /// Two days a month, 15 apart.
    HalfMonths,
}

/// Days between the two occurrences of a `twiceAMonth` month.
const HALF_MONTH_DAYS: u32 = 15;

impl Frequency {
    /// Every frequency, in YNAB's order.
    pub const ALL: [Self; 13] = [
        Self::Never,
        Self::Daily,
        Self::Weekly,
        Self::EveryOtherWeek,
        Self::TwiceAMonth,
        Self::Every4Weeks,
        Self::Monthly,
        Self::EveryOtherMonth,
        Self::Every3Months,
        Self::Every4Months,
        Self::TwiceAYear,
        Self::Yearly,
        Self::EveryOtherYear,
    ];

    pub fn step(self) -> Step {
        match self {
            Self::Never => Step::Once,
            Self::Daily => Step::Days(1),
            Self::Weekly => Step::Days(7),
            Self::EveryOtherWeek => Step::Days(14),
            Self::Every4Weeks => Step::Days(28),
            Self::TwiceAMonth => Step::HalfMonths,
            Self::Monthly => Step::Months(1),
            Self::EveryOtherMonth => Step::Months(2),
            Self::Every3Months => Step::Months(3),
            Self::Every4Months => Step::Months(4),
            Self::TwiceAYear => Step::Months(6),
            Self::Yearly => Step::Months(12),
            Self::EveryOtherYear => Step::Months(24),
        }
    }
}

/// The date of occurrence `k` (0 is the first date); `None` when there is none (a `never`
/// schedule after its first date) or it lies beyond the calendar.
pub fn occurrence(first: NaiveDate, frequency: Frequency, k: u32) -> Option<NaiveDate> {
    match frequency.step() {
        Step::Once => (k == 0).then_some(first),
        Step::Days(days) => first.checked_add_days(Days::new(u64::from(days) * u64::from(k))),
        Step::Months(months) => first.checked_add_months(Months::new(months.checked_mul(k)?)),
        Step::HalfMonths => {
            let (low_day, half) = half_month_start(first.day());
            let half = half + k;
            let month_start = first.with_day(1)?.checked_add_months(Months::new(half / 2))?;
            let day = low_day + HALF_MONTH_DAYS * (half % 2);
            month_start.with_day(day.min(last_day(month_start)?))
        }
    }
}

/// For a `twiceAMonth` schedule starting on `day`: the earlier of its two days, and which of the
/// two the first date is (0 the earlier, 1 the later).
fn half_month_start(day: u32) -> (u32, u32) {
    if day <= HALF_MONTH_DAYS {
        (day, 0)
    } else {
        (day - HALF_MONTH_DAYS, 1)
    }
}

/// The number of days in the month of `date`.
fn last_day(date: NaiveDate) -> Option<u32> {
    let next_month = date.with_day(1)?.checked_add_months(Months::new(1))?;
    next_month.pred_opt().map(|d| d.day())
}

/// A first date before the household's today.
pub const DATE_FIRST_PAST: &str = "must be today or later in the household's time zone";
/// An end date before the first date.
pub const END_BEFORE_FIRST: &str = "must be on or after date_first";
/// Both ends sent.
pub const ONE_END: &str = "send end_date or end_count, not both";
/// The most occurrences `end_count` may ask for.
pub const MAX_END_COUNT: i64 = 10_000;

/// The problems of a schedule's end, as sent: `(field, message)` each.
pub fn end_problems(
    first: NaiveDate,
    end_date: Option<NaiveDate>,
    end_count: Option<i64>,
) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if end_date.is_some() && end_count.is_some() {
        problems.push(("end_count", ONE_END.to_owned()));
    }
    if end_date.is_some_and(|end| end < first) {
        problems.push(("end_date", END_BEFORE_FIRST.to_owned()));
    }
    if end_count.is_some_and(|n| !(1..=MAX_END_COUNT).contains(&n)) {
        problems.push(("end_count", format!("must be from 1 to {MAX_END_COUNT}")));
    }
    problems
}

/// When a schedule ends: after its last date, or after a number of occurrences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Never,
    OnOrBefore(NaiveDate),
    After(u32),
}

impl End {
    /// Whether occurrence `k`, on `date`, is still within the schedule.
    pub fn includes(self, k: u32, date: NaiveDate) -> bool {
        match self {
            Self::Never => true,
            Self::OnOrBefore(last) => date <= last,
            Self::After(count) => k < count,
        }
    }
}

/// Up to `n` dates of the schedule from occurrence `from` on, in order.
pub fn upcoming(first: NaiveDate, frequency: Frequency, end: End, from: u32, n: usize) -> Vec<NaiveDate> {
    (from..)
        .map_while(|k| occurrence(first, frequency, k).filter(|d| end.includes(k, *d)))
        .take(n)
        .collect()
}

/// [`occurrence`] as a SQL expression over the SQL expressions `first` (a date), `frequency` (its
/// text) and `k` (an integer); NULL where [`occurrence`] is `None` within PostgreSQL's calendar.
pub fn occurrence_sql(first: &str, frequency: &str, k: &str) -> String {
    let cases: String = Frequency::ALL
        .iter()
        .map(|f| {
            let date = match f.step() {
                Step::Once => format!("CASE WHEN {k} = 0 THEN {first} END"),
                Step::Days(days) => format!("{first} + {days} * {k}"),
                Step::Months(months) => {
                    format!("({first} + make_interval(months => {months} * {k}))::date")
                }
                Step::HalfMonths => half_months_sql(first, k),
            };
            format!(" WHEN '{}' THEN {date}", f.as_str())
        })
        .collect();
    format!("(CASE {frequency}{cases} END)")
}

/// The `twiceAMonth` arm of [`occurrence_sql`], written as [`occurrence`] computes it.
fn half_months_sql(first: &str, k: &str) -> String {
    let day = format!("extract(day FROM {first})::int");
    let late = format!("({day} > {HALF_MONTH_DAYS})::int");
    let low_day = format!("({day} - {HALF_MONTH_DAYS} * {late})");
    let half = format!("({late} + {k})");
    let month_start =
        format!("(date_trunc('month', {first}::timestamp) + make_interval(months => {half} / 2))::date");
    let last = format!("extract(day FROM ({month_start} + interval '1 month' - interval '1 day'))::int");
    format!("{month_start} + (LEAST({low_day} + {HALF_MONTH_DAYS} * ({half} % 2), {last}) - 1)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("a real date")
    }

    /// Every occurrence within a year of `first`, by the test's own stepping.
    fn year_of(first: NaiveDate, frequency: Frequency) -> Vec<NaiveDate> {
        let end = first.checked_add_months(Months::new(12)).expect("in range");
        (0..)
            .map_while(|k| occurrence(first, frequency, k).filter(|date| *date < end))
            .collect()
    }

    #[test]
    fn every_frequency_parses_as_ynab_spells_it_and_nothing_else() {
        for f in Frequency::ALL {
            assert_eq!(Frequency::parse(f.as_str()), Ok(f));
        }
        assert_eq!(Frequency::VALUES.len(), Frequency::ALL.len());
        assert!(Frequency::parse("Monthly").is_err());
        assert!(Frequency::parse("every_other_week").is_err());
    }

    #[test]
    fn a_year_of_every_day_based_frequency_steps_by_its_days() {
        let first = d(2027, 1, 10);
        for (frequency, days) in [
            (Frequency::Daily, 1),
            (Frequency::Weekly, 7),
            (Frequency::EveryOtherWeek, 14),
            (Frequency::Every4Weeks, 28),
        ] {
            let dates = year_of(first, frequency);
            assert_eq!(dates.len(), 365usize.div_ceil(days), "{frequency}");
            assert_eq!(dates[0], first);
            for pair in dates.windows(2) {
                assert_eq!((pair[1] - pair[0]).num_days(), days as i64, "{frequency}");
            }
        }
    }

    #[test]
    fn a_year_of_every_month_based_frequency_keeps_its_day() {
        let first = d(2027, 1, 10);
        for (frequency, months, count) in [
            (Frequency::Monthly, 1, 12),
            (Frequency::EveryOtherMonth, 2, 6),
            (Frequency::Every3Months, 3, 4),
            (Frequency::Every4Months, 4, 3),
            (Frequency::TwiceAYear, 6, 2),
            (Frequency::Yearly, 12, 1),
            (Frequency::EveryOtherYear, 24, 1),
        ] {
            let dates = year_of(first, frequency);
            assert_eq!(dates.len(), count, "{frequency}");
            for (k, date) in dates.iter().enumerate() {
                assert_eq!(date.day(), 10, "{frequency}");
                let month0 = u32::try_from(k).expect("small") * months;
                assert_eq!(date.month0(), month0 % 12, "{frequency}");
            }
        }
    }

    #[test]
    fn never_is_the_first_date_only() {
        let first = d(2027, 3, 4);
        assert_eq!(year_of(first, Frequency::Never), vec![first]);
        assert_eq!(occurrence(first, Frequency::Never, 1), None);
    }

    #[test]
    fn monthly_on_the_31st_lands_on_each_months_last_day_and_returns_to_the_31st() {
        let dates = year_of(d(2027, 1, 31), Frequency::Monthly);
        let expected = [
            d(2027, 1, 31),
            d(2027, 2, 28),
            d(2027, 3, 31),
            d(2027, 4, 30),
            d(2027, 5, 31),
            d(2027, 6, 30),
            d(2027, 7, 31),
            d(2027, 8, 31),
            d(2027, 9, 30),
            d(2027, 10, 31),
            d(2027, 11, 30),
            d(2027, 12, 31),
        ];
        assert_eq!(dates, expected);
        assert_eq!(
            occurrence(d(2027, 1, 31), Frequency::Monthly, 13),
            Some(d(2028, 2, 29))
        );
    }

    #[test]
    fn a_leap_day_recurs_on_leap_days_and_on_the_28th_between() {
        let first = d(2028, 2, 29);
        let years: Vec<_> = (0..5)
            .filter_map(|k| occurrence(first, Frequency::Yearly, k))
            .collect();
        assert_eq!(
            years,
            [
                d(2028, 2, 29),
                d(2029, 2, 28),
                d(2030, 2, 28),
                d(2031, 2, 28),
                d(2032, 2, 29)
            ]
        );
        assert_eq!(
            occurrence(first, Frequency::EveryOtherYear, 1),
            Some(d(2030, 2, 28))
        );
        assert_eq!(occurrence(first, Frequency::Daily, 1), Some(d(2028, 3, 1)));
    }

    #[test]
    fn twice_a_month_from_the_first_half_pairs_a_day_with_the_day_15_later() {
        let dates = year_of(d(2027, 1, 15), Frequency::TwiceAMonth);
        assert_eq!(dates.len(), 24);
        assert_eq!(
            &dates[..4],
            [d(2027, 1, 15), d(2027, 1, 30), d(2027, 2, 15), d(2027, 2, 28)]
        );
        for pair in dates.chunks(2) {
            assert_eq!(pair[0].month(), pair[1].month());
            assert_eq!(pair[0].day(), 15);
            assert_eq!(pair[1].day(), 30.min(last_day(pair[1]).expect("a month")));
        }
        let first_of_month = year_of(d(2027, 1, 1), Frequency::TwiceAMonth);
        assert!(first_of_month.iter().all(|date| [1, 16].contains(&date.day())));
    }

    #[test]
    fn twice_a_month_from_the_second_half_starts_on_the_later_day() {
        let dates = year_of(d(2027, 1, 31), Frequency::TwiceAMonth);
        assert_eq!(
            &dates[..5],
            [
                d(2027, 1, 31),
                d(2027, 2, 16),
                d(2027, 2, 28),
                d(2027, 3, 16),
                d(2027, 3, 31)
            ]
        );
        assert_eq!(
            dates.len(),
            24,
            "the 31st, two days in each of 11 months, 16 January"
        );
        let leap = year_of(d(2028, 1, 20), Frequency::TwiceAMonth);
        assert!(leap.contains(&d(2028, 2, 5)) && leap.contains(&d(2028, 2, 20)));
    }

    #[test]
    fn occurrences_are_strictly_increasing_for_every_frequency_and_first_day() {
        for f in Frequency::ALL {
            for day in 1..=31 {
                let first = d(2027, 1, day);
                let dates: Vec<_> = (0..60).filter_map(|k| occurrence(first, f, k)).collect();
                assert!(dates.windows(2).all(|w| w[0] < w[1]), "{f} from day {day}");
                assert_eq!(dates[0], first, "{f} from day {day}");
            }
        }
    }

    #[test]
    fn an_end_is_one_of_a_date_from_the_first_on_or_a_count() {
        let first = d(2027, 1, 5);
        assert!(end_problems(first, None, None).is_empty());
        assert!(end_problems(first, Some(first), None).is_empty());
        assert!(end_problems(first, None, Some(1)).is_empty());
        assert_eq!(end_problems(first, Some(d(2027, 1, 4)), None)[0].0, "end_date");
        assert_eq!(end_problems(first, None, Some(0))[0].0, "end_count");
        assert_eq!(
            end_problems(first, None, Some(MAX_END_COUNT + 1))[0].0,
            "end_count"
        );
        assert_eq!(
            end_problems(first, Some(first), Some(2))[0],
            ("end_count", ONE_END.to_owned())
        );
    }

    #[test]
    fn an_end_date_and_an_end_count_stop_the_upcoming_dates() {
        let first = d(2027, 1, 5);
        let all = upcoming(first, Frequency::Weekly, End::Never, 0, 5);
        assert_eq!(all.len(), 5);
        let by_date = upcoming(first, Frequency::Weekly, End::OnOrBefore(all[2]), 0, 5);
        assert_eq!(by_date, all[..3]);
        let by_count = upcoming(first, Frequency::Weekly, End::After(2), 0, 5);
        assert_eq!(by_count, all[..2]);
        assert_eq!(upcoming(first, Frequency::Weekly, End::After(2), 1, 5), all[1..2]);
        assert!(upcoming(first, Frequency::Never, End::Never, 1, 5).is_empty());
    }
}
