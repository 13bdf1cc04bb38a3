#!/usr/bin/env python3
"""Cross-checks Stepwise's cron schedules against Python's croniter, an independent implementation.

Usage:
    python3 scripts/cron_crosscheck.py PATH/TO/stepwise [--seed N] [--chains 3600] [--examples 8]

It generates random cron expressions (lists, ranges, steps, month and weekday names in any case,
`*`, both day fields restricted, weekday 7 and ranges ending on Sunday, macros) and random
instants, many of them just before daylight saving time transitions of zones with odd rules
(Europe/Berlin, America/New_York, America/St_Johns, Australia/Lord_Howe with its 30-minute shift,
Asia/Kathmandu, Pacific/Chatham, America/Havana, UTC). Each pair, with a count of 5 to 10, is a chain: the next
fire times after the instant. One `stepwise cron --batch` process answers every chain; croniter
answers them too (`day_or=True`, the Vixie rule that either restricted day field matches, with
zone-aware datetimes from zoneinfo), and the two are compared instant by instant, UTC offset
included.

Stepwise's semantics differ from croniter's in documented ways, so the script recomputes every
chain with those differences applied, mechanically, and Stepwise's answer must be exactly that
recomputation (it is also what croniter answers where no difference applies). A chain is
`identical` when Stepwise also agrees with croniter as it is, `explained` when it does not and
the category names the fewest differences that account for croniter's answer, among those that
apply to the chain, and `unexplained` otherwise: also when Stepwise agrees with croniter but not
with the recomputation. The differences:

- DST policy: croniter fires a wall time repeated by a fall-back twice; Stepwise fires it once,
  at its first occurrence. The recomputation takes croniter's wall-clock times (naive datetimes,
  no zone) and maps each to an instant with zoneinfo by the documented policy: a wall time in a
  spring-forward gap fires at the end of the gap (the gap's times fire together, once), a repeated
  wall time at its first occurrence, and times at or before the start instant are dropped. It
  applies where a transition lies between a day before the start and a day after the chain.
- Vixie star rule: as Vixie cron and cronie, Stepwise matches the two day fields with AND when
  either starts with `*` (as in `*/2`), even though that field is restricted; croniter with
  `day_or=True` uses OR unless a field is exactly `*`. The recomputation is croniter with
  `implement_cron_bug=True`, its emulation of that rule. (A schedule that can then never fire,
  such as `0 0 30 2 */2`, is rejected by Stepwise; croniter finds no date either.)
- croniter quirk: croniter misreads a few spellings that cron and Stepwise read alike; the
  recomputation spells them as croniter reads them right (see `croniter_dialect`).
- search horizon: Stepwise stops looking 5 years after the start (so `0 0 29 2 *` from 2096 finds
  one time: 2100 is no leap year); a chain that is a prefix of the recomputed one counts when the
  next recomputed time is more than 5 years after the last one found.

The last line is `cron cross-check: N chains, M identical, K explained (…), U unexplained`; the
exit status is 1 when anything is unexplained (examples are printed) and 2 for usage errors.
Needs croniter (`pip install croniter`); runs in well under a minute.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

try:
    from croniter import croniter
    from croniter.croniter import CroniterBadDateError
except ImportError:  # pragma: no cover - environment problem
    sys.exit("error: croniter is not installed (python3 -m pip install croniter)")

UTC = timezone.utc
SEARCH_YEARS = 5  # CronExpression.searchYears
# Zone, weight, and the years whose transitions are of interest: St_Johns switched at 00:01 until
# 2011 and by two hours in 1988, Kathmandu moved from +05:30 to +05:45 at the start of 1986,
# Havana switches at midnight (the day starts at 01:00), years after 2037 come from the zone's
# rule rather than its table of transitions.
ZONES = {
    "Europe/Berlin": (3, (2018, 2060)),
    "America/New_York": (3, (2018, 2060)),
    "America/St_Johns": (3, (1987, 2032)),
    "Australia/Lord_Howe": (3, (2018, 2040)),
    "Asia/Kathmandu": (1, (1985, 1987)),
    "Pacific/Chatham": (3, (2018, 2040)),
    "America/Havana": (2, (2010, 2040)),
    "UTC": (1, (2018, 2030)),
}
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]


# --------------------------------------------------------------------------------------------
# Random expressions


@dataclass(frozen=True)
class FieldKind:
    low: int
    high: int
    names: list[str] = field(default_factory=list)
    name_base: int = 0


MINUTE = FieldKind(0, 59)
HOUR = FieldKind(0, 23)
DAY_OF_MONTH = FieldKind(1, 31)
MONTH = FieldKind(1, 12, MONTHS, 1)
DAY_OF_WEEK = FieldKind(0, 7, DAYS, 0)


def spell(rng: random.Random, kind: FieldKind, value: int) -> str:
    """A value as a number or, sometimes, a name in random case (Sunday may be 7)."""
    if kind.names and rng.random() < 0.4 and value - kind.name_base < len(kind.names):
        name = kind.names[value - kind.name_base]
        return rng.choice([name, name.upper(), name.capitalize()])
    return str(value)


def pick_value(rng: random.Random, kind: FieldKind, hot: list[int]) -> int:
    """A value of the field, often one of the `hot` values (the hours DST transitions happen at)."""
    if hot and rng.random() < 0.5:
        return rng.choice(hot)
    return rng.randint(kind.low, kind.high)


def random_item(rng: random.Random, kind: FieldKind, hot: list[int]) -> str:
    """One list item: a value, a range, a stepped range or `*`, or a value with a step."""
    roll = rng.random()
    if roll < 0.4:
        return spell(rng, kind, pick_value(rng, kind, hot))
    if roll < 0.7:
        start = pick_value(rng, kind, hot)
        if kind is DAY_OF_WEEK and start > 0 and rng.random() < 0.2:
            end = 0  # `5-0`, `sat-sun`: through Sunday
        else:
            end = rng.randint(start, kind.high)
        text = f"{spell(rng, kind, start)}-{spell(rng, kind, end)}"
        if rng.random() < 0.3:
            text += f"/{rng.randint(1, max(1, end - start if end else 7 - start))}"
        return text
    if roll < 0.9:
        return f"*/{rng.randint(1, kind.high)}"
    return f"{pick_value(rng, kind, hot)}/{rng.randint(1, kind.high)}"


def random_field(rng: random.Random, kind: FieldKind, star: float, hot: list[int] | None = None) -> str:
    """`*` with probability `star`, else a list of one to three items."""
    if rng.random() < star:
        return "*"
    return ",".join(random_item(rng, kind, hot or []) for _ in range(rng.choice([1, 1, 1, 2, 3])))


def random_expression(rng: random.Random) -> str:
    if rng.random() < 0.03:
        return rng.choice(MACROS)
    minute = random_field(rng, MINUTE, 0.15, [0, 1, 15, 30, 45, 59])
    hour = random_field(rng, HOUR, 0.3, [0, 1, 2, 3])
    day_roll = rng.random()
    if day_roll < 0.45:  # the common case: days unrestricted
        day_of_month, day_of_week = "*", "*"
    elif day_roll < 0.6:
        day_of_month, day_of_week = random_field(rng, DAY_OF_MONTH, 0.0), "*"
    elif day_roll < 0.8:
        day_of_month, day_of_week = "*", random_field(rng, DAY_OF_WEEK, 0.0)
    else:  # both restricted: either matches (or AND when one starts with `*`)
        day_of_month, day_of_week = random_field(rng, DAY_OF_MONTH, 0.0), random_field(rng, DAY_OF_WEEK, 0.0)
    month = random_field(rng, MONTH, 0.7, [3, 4, 9, 10, 11])
    return f"{minute} {hour} {day_of_month} {month} {day_of_week}"


# --------------------------------------------------------------------------------------------
# Time zones and the documented DST policy


def offset_at(zone: ZoneInfo, second: int) -> timedelta:
    return datetime.fromtimestamp(second, UTC).astimezone(zone).utcoffset()


def transitions(zone: ZoneInfo, years: tuple[int, int]) -> list[int]:
    """The instants (epoch seconds) at which `zone` changes its UTC offset within `years`."""
    found = []
    second = int(datetime(years[0], 1, 1, tzinfo=UTC).timestamp()) - 86_400
    end = int(datetime(years[1] + 1, 1, 1, tzinfo=UTC).timestamp())
    previous = offset_at(zone, second)
    while second < end:
        following = second + 21_600
        current = offset_at(zone, following)
        if current != previous:
            low, high = second, following
            while high - low > 1:
                middle = (low + high) // 2
                if offset_at(zone, middle) == previous:
                    low = middle
                else:
                    high = middle
            found.append(high)
            previous = current
        second = following
    return found


def wall_time(zone: ZoneInfo, second: int) -> datetime:
    return datetime.fromtimestamp(second, UTC).astimezone(zone).replace(tzinfo=None, fold=0)


def first_instant(zone: ZoneInfo, wall: datetime) -> int:
    """The documented policy: the first instant showing `wall`, or the end of the gap it lies in."""
    candidates = {int(wall.replace(tzinfo=zone, fold=fold).timestamp()) for fold in (0, 1)}
    showing = [second for second in candidates if wall_time(zone, second) == wall]
    if showing:
        return min(showing)
    low, high = min(candidates), max(candidates)  # straddle the transition
    while high - low > 1:
        middle = (low + high) // 2
        if wall_time(zone, middle) > wall:
            high = middle
        else:
            low = middle
    return high


# --------------------------------------------------------------------------------------------
# The chains: Stepwise, croniter, and the recomputations


@dataclass
class Chain:
    expression: str
    zone: str
    after: datetime  # aware, UTC
    count: int

    def request(self) -> str:
        after = self.after.isoformat().replace("+00:00", "Z")
        return json.dumps({"cron": self.expression, "timezone": self.zone, "after": after, "count": self.count})


# A result: ("error", message) or ("times", [(epoch seconds, UTC offset seconds), ...]).
Result = tuple[str, object]


def stepwise_results(binary: str, chains: list[Chain]) -> list[Result]:
    requests = "".join(chain.request() + "\n" for chain in chains)
    process = subprocess.run([binary, "cron", "--batch"], input=requests, capture_output=True, text=True, check=False)
    if process.returncode != 0:
        sys.exit(f"error: {binary} cron --batch exited {process.returncode}: {process.stderr.strip()}")
    lines = process.stdout.splitlines()
    if len(lines) != len(chains):
        sys.exit(f"error: {binary} cron --batch answered {len(lines)} lines for {len(chains)} requests")
    results: list[Result] = []
    for line in lines:
        answer = json.loads(line)
        if "error" in answer:
            results.append(("error", answer["error"]))
        else:
            times = [datetime.fromisoformat(text) for text in answer["times"]]
            results.append(("times", [(int(t.timestamp()), int(t.utcoffset().total_seconds())) for t in times]))
    return results


def croniter_times(chain: Chain, star_rule: bool = False) -> Result:
    """croniter's answer with zone-aware datetimes; `star_rule`: with its `implement_cron_bug`."""
    zone = ZoneInfo(chain.zone)
    try:
        iterator = croniter(chain.expression, chain.after.astimezone(zone), day_or=True, implement_cron_bug=star_rule)
        times = []
        for _ in range(chain.count):
            moment = iterator.get_next(datetime)
            times.append((int(moment.timestamp()), int(moment.utcoffset().total_seconds())))
        return ("times", times)
    except CroniterBadDateError as error:
        return ("error", f"croniter: {error}")
    except (ValueError, KeyError) as error:
        return ("error", f"croniter rejects it: {error}")


def policy_times(chain: Chain, star_rule: bool = False) -> Result:
    """croniter's wall-clock times (no zone) mapped to instants by the documented DST policy."""
    zone = ZoneInfo(chain.zone)
    start = int(chain.after.timestamp())
    try:
        iterator = croniter(chain.expression, wall_time(zone, start), day_or=True, implement_cron_bug=star_rule)
        times: list[tuple[int, int]] = []
        for _ in range(chain.count + 400):
            if len(times) == chain.count:
                break
            second = first_instant(zone, iterator.get_next(datetime))
            if second <= start or (times and times[-1][0] == second):
                continue  # had its turn before the start, or a gap's times firing together
            times.append((second, int(offset_at(zone, second).total_seconds())))
        return ("times", times)
    except CroniterBadDateError as error:
        return ("error", f"croniter: {error}")
    except (ValueError, KeyError) as error:
        return ("error", f"croniter rejects it: {error}")


FIELD_KINDS = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK]


def field_value(kind: FieldKind, text: str) -> int | None:
    if text.isdigit():
        return int(text)
    lowered = text.lower()
    return kind.names.index(lowered) + kind.name_base if lowered in kind.names else None


def croniter_dialect(expression: str) -> str:
    """The expression with what croniter misreads spelled so that it reads it as cron does.

    - croniter reads a range whose ends are equal (`59-59`, `SAT-SAT`, `7-7/3`) as the whole
      field, the weekday range `7-0` as every day, and `7/3` as `0/3` (Sunday, Wednesday,
      Saturday). In cron, as in Stepwise, each of them selects its one value: `59`, `6`, Sunday.
    - croniter turns a day field that selects every day (`1-7`, `mon-sun`) into `*` when the
      other day field has a `*` anywhere (`1,*/4`), and then matches the days with AND. In cron
      neither field starts with `*`, so they match with OR, and a field selecting every day
      makes every day fire: both day fields become `*`.
    """
    fields = expression.split()
    if len(fields) != 5:
        return expression
    rewritten = []
    for kind, text in zip(FIELD_KINDS, fields):
        items = []
        for item in text.split(","):
            span = item.split("/")[0]
            if "-" in span:
                ends = [field_value(kind, end) for end in span.split("-")]
                if ends[0] is not None and (ends[0] == ends[1] or (kind is DAY_OF_WEEK and ends == [7, 0])):
                    item = str(ends[0])
            elif kind is DAY_OF_WEEK and "/" in item and field_value(kind, span) == 7:
                item = "7"
            items.append(item)
        rewritten.append(",".join(items))
    day_of_month, day_of_week = rewritten[2], rewritten[4]
    if not day_of_month.startswith("*") and not day_of_week.startswith("*"):
        expanded = croniter(" ".join(rewritten)).expanded
        if expanded[2] == ["*"] or len(expanded[2]) == 31 or expanded[4] == ["*"] or len(expanded[4]) == 7:
            rewritten[2] = rewritten[4] = "*"
    return " ".join(rewritten)


def star_rule_applies(expression: str) -> bool:
    """Whether Vixie's AND (a day field starting with `*`) may differ from croniter's OR."""
    fields = expression.split()
    if len(fields) != 5:
        return False
    day_of_month, day_of_week = fields[2], fields[4]
    return (day_of_month.startswith("*") or day_of_week.startswith("*")) and "*" not in (day_of_month, day_of_week)


def agrees(actual: Result, expected: Result, start: int) -> str | None:
    """'same', 'horizon' (a prefix that stops where the search does) or None."""
    if actual[0] == "error" or expected[0] == "error":
        return "same" if actual[0] == expected[0] else None
    got, want = actual[1], expected[1]
    if got == want:
        return "same"
    if len(got) < len(want) and got == want[: len(got)]:
        last = got[-1][0] if got else start
        if want[len(got)][0] - last > SEARCH_YEARS * 365 * 86_400:
            return "horizon"
    return None


ADJUSTMENTS = ("croniter quirk", "Vixie star rule", "DST policy")


def recomputed(chain: Chain, adjustments: tuple[str, ...]) -> Result:
    """croniter's answer with the given documented differences applied."""
    if "croniter quirk" in adjustments:
        chain = Chain(croniter_dialect(chain.expression), chain.zone, chain.after, chain.count)
    star_rule = "Vixie star rule" in adjustments
    return policy_times(chain, star_rule) if "DST policy" in adjustments else croniter_times(chain, star_rule)


def classify(chain: Chain, actual: Result, zone_transitions: list[int]) -> tuple[str, Result]:
    """The category of a chain, and croniter's own answer (for examples).

    What Stepwise printed must be the recomputation with every documented difference applied
    (each is an identity where it does not apply), or a prefix of it cut by the search horizon;
    anything else is unexplained, also when it is what croniter itself answers. When croniter
    answers otherwise, the category names the fewest differences that account for it, among
    those that apply to the chain: the expression has something croniter misreads, a day field
    starts with `*`, a transition lies between a day before the start and a day after the end.
    """
    start = int(chain.after.timestamp())
    plain = croniter_times(chain)
    reference = recomputed(chain, ADJUSTMENTS)
    verdict = agrees(actual, reference, start)
    if verdict is None:
        return "unexplained", plain
    if agrees(actual, plain, start) == "same":
        return "identical", plain
    end = max([t for t, _ in actual[1]] if actual[0] == "times" and actual[1] else [start]) + 86_400
    # A fall-back repeats wall times after the transition, so look a day before the start too.
    crosses = bisect.bisect_right(zone_transitions, start - 86_400) < bisect.bisect_right(zone_transitions, end)
    applies = {
        "croniter quirk": croniter_dialect(chain.expression) != chain.expression,
        "Vixie star rule": star_rule_applies(chain.expression),
        "DST policy": crosses,
    }
    applicable = [name for name in ADJUSTMENTS if applies[name]]
    horizon = ("search horizon",) if verdict == "horizon" else ()
    for size in range(len(applicable) + 1):
        for adjustments in itertools.combinations(applicable, size):
            if agrees(recomputed(chain, adjustments), reference, start) == "same":
                return " + ".join(adjustments + horizon), plain
    return "unexplained", plain


# --------------------------------------------------------------------------------------------
# Random chains


def aimed_start(rng: random.Random, expression: str, zone: ZoneInfo, transition: int, count: int) -> int | None:
    """An instant a few fire times before `transition`, so that the chain runs across it.

    It steps back from the transition over the schedule's wall-clock times (croniter, naive), so
    it only chooses where chains start; it plays no part in any verdict.
    """
    try:
        iterator = croniter(expression, wall_time(zone, transition), day_or=True)
        for _ in range(rng.randint(1, count - 1)):
            wall = iterator.get_prev(datetime)
    except (CroniterBadDateError, ValueError, KeyError):
        return None
    return first_instant(zone, wall) - rng.randint(1, 90)


def random_chains(rng: random.Random, count: int, zone_transitions: dict[str, list[int]]) -> list[Chain]:
    names = list(ZONES)
    weights = [ZONES[name][0] for name in names]
    chains = []
    for _ in range(count):
        zone = rng.choices(names, weights)[0]
        expression = random_expression(rng)
        length = rng.randint(5, 10)
        shifts = zone_transitions[zone]
        roll = rng.random()
        second = None
        if shifts and roll < 0.5:
            second = aimed_start(rng, expression, ZoneInfo(zone), rng.choice(shifts), length)
        if second is None and shifts and roll < 0.8:
            # Just before (or after) a transition, close enough for minutely to daily schedules.
            scale = rng.choice([1_800, 3 * 3_600, 86_400, 3 * 86_400])
            second = rng.choice(shifts) - rng.randint(-scale // 10, scale)
        if second is None:
            low, high = ZONES[zone][1]
            second = rng.randint(int(datetime(low, 1, 1, tzinfo=UTC).timestamp()), int(datetime(high, 12, 31, tzinfo=UTC).timestamp()))
        if rng.random() < 0.7:
            second -= second % 60  # on a whole minute, the boundary case
        after = datetime.fromtimestamp(second, UTC)
        if rng.random() < 0.1:
            after += timedelta(milliseconds=rng.randint(1, 999))
        chains.append(Chain(expression, zone, after, length))
    return chains


def describe(result: Result, zone: str) -> str:
    if result[0] == "error":
        return f"error: {result[1]}"
    tz = ZoneInfo(zone)
    return ", ".join(datetime.fromtimestamp(t, UTC).astimezone(tz).isoformat() for t, _ in result[1]) or "(none)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", help="the stepwise executable")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed (default: %(default)s)")
    parser.add_argument("--chains", type=int, default=3600, help="how many chains to compare (default: %(default)s)")
    parser.add_argument("--examples", type=int, default=8, help="unexplained chains to print (default: %(default)s)")
    options = parser.parse_args()

    began = time.monotonic()
    rng = random.Random(options.seed)
    zone_transitions = {name: transitions(ZoneInfo(name), years) for name, (_, years) in ZONES.items()}
    chains = random_chains(rng, options.chains, zone_transitions)
    actual = stepwise_results(options.binary, chains)

    categories: Counter[str] = Counter()
    unexplained = []
    rejected = crossing = 0
    for chain, result in zip(chains, actual):
        category, plain = classify(chain, result, zone_transitions[chain.zone])
        categories[category] += 1
        rejected += category == "identical" and result[0] == "error"
        crossing += result[0] == "times" and any(t != result[1][0][1] for _, t in result[1])
        if category == "unexplained":
            unexplained.append((chain, result, plain))

    for chain, result, plain in unexplained[: options.examples]:
        print(f"unexplained: {chain.expression!r} in {chain.zone} after {chain.after.isoformat()} (count {chain.count})")
        print(f"  stepwise:   {describe(result, chain.zone)}")
        print(f"  croniter:   {describe(plain, chain.zone)}")
        print(f"  recomputed: {describe(recomputed(chain, ADJUSTMENTS), chain.zone)}")
    explained = {name: number for name, number in categories.items() if name not in ("identical", "unexplained")}
    details = ", ".join(f"{name} {number}" for name, number in sorted(explained.items()))
    print(
        f"seed {options.seed}: {crossing} chains change UTC offset, {rejected} are rejected by both, "
        f"{time.monotonic() - began:.1f} s"
    )
    print(
        f"cron cross-check: {len(chains)} chains, {categories['identical']} identical, "
        f"{sum(explained.values())} explained ({details or 'none'}), {categories['unexplained']} unexplained"
    )
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
