"""The people and places behind the events: organizations, users (some anonymous, some signing up during the
period), workspaces and memberships, simulated as index arrays and written as the landing directory's dimension
files."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.sample_data.arrays import day_us, minute_us

anonymous_user_share = 0.03
users_per_organization = 12
new_user_share = 0.12
plans = ("free", "team", "enterprise")
plan_share = (0.5, 0.35, 0.15)
admin_member_share = 0.15
workspace_pick_share = (0.5, 0.3, 0.2)  # a user works in 1, 2 or 3 workspaces
timezones = (
    ("-08:00", -480, 0.14), ("-05:00", -300, 0.16), ("-03:00", -180, 0.05), ("+00:00", 0, 0.10),
    ("+01:00", 60, 0.20), ("+02:00", 120, 0.10), ("+05:30", 330, 0.10), ("+08:00", 480, 0.07),
    ("+09:00", 540, 0.05), ("+10:00", 600, 0.03),
)
company_stems = (
    "Acme", "Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Soylent", "Stark", "Wayne",
    "Tyrell", "Cyberdyne", "Aperture", "Massive", "Oscorp", "Wonka", "Gringotts", "Monarch", "Dunder", "Pied",
)
company_kinds = ("Labs", "Systems", "Software", "Analytics", "Cloud", "Robotics", "Works", "Digital")
domain_suffixes = (".com", ".io", ".dev", ".co")
first_names = (
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Guido", "Anita", "James",
    "Radia", "Tim", "Hedy", "Donald", "Katherine", "Edsger", "Sophie", "John", "Karen", "Niklaus", "Lynn",
    "Bjarne", "Shafi", "Leslie", "Mary", "Yukihiro", "Rasmus", "Carol", "Brian", "Joan", "Ivan", "Priya",
    "Wei", "Fatima", "Diego", "Amara", "Kenji", "Elena",
)
last_names = (
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Rossum",
    "Borg", "Gosling", "Perlman", "Berners-Lee", "Lamarr", "Knuth", "Johnson", "Dijkstra", "Wilson", "McCarthy",
    "Jones", "Wirth", "Conway", "Stroustrup", "Goldwasser", "Lamport", "Keller", "Matsumoto", "Lerdorf", "Shaw",
    "Kernighan", "Clarke", "Sutherland", "Patel", "Zhang", "Haddad", "Garcia", "Okafor", "Tanaka", "Petrova",
)
workspace_teams = (
    "Backend", "Frontend", "Data Platform", "Mobile", "Infra", "ML Research", "Docs", "Payments", "Growth",
    "Security", "Sandbox", "QA",
)



@dataclasses.dataclass
class Dimensions:
    """Index-based dimensions; user arrays cover known and anonymous users alike."""

    org_name: list[str]
    org_domain: list[str]
    org_plan: np.ndarray
    org_created: np.ndarray
    user_org: np.ndarray
    user_known: np.ndarray
    user_new: np.ndarray  # registers during the sampled period
    user_reg_day: np.ndarray  # first day index the user may be active
    user_registered: np.ndarray
    user_tz: np.ndarray
    user_first: np.ndarray
    user_last: np.ndarray
    user_ws: np.ndarray  # (users, 3) workspace indexes, -1 padded
    user_ws_count: np.ndarray
    ws_org: np.ndarray
    ws_owner: np.ndarray
    ws_created: np.ndarray
    ws_name: list[str]
    project_first: np.ndarray
    project_count: np.ndarray
    member_ws: np.ndarray
    member_user: np.ndarray
    member_admin: np.ndarray
    member_invited: np.ndarray



def build_dimensions(rng: np.random.Generator, n_users: int, days: int, start_us: int) -> Dimensions:
    n_orgs = min(n_users, max(3, round(n_users / users_per_organization)))
    n_anonymous = max(1, round(n_users * anonymous_user_share / (1 - anonymous_user_share)))
    total = n_users + n_anonymous

    # The first n_orgs users found their organization, so every organization has a known, early member.
    org_weight = rng.pareto(1.5, n_orgs) + 1
    user_org = np.concatenate([np.arange(n_orgs), rng.choice(n_orgs, total - n_orgs, p=org_weight / org_weight.sum())])
    user_known = np.ones(total, bool)
    user_known[rng.choice(np.arange(n_orgs, total), n_anonymous, replace=False)] = False
    founder = np.arange(total) < n_orgs
    user_new = user_known & ~founder & (rng.random(total) < new_user_share)
    user_reg_day = np.where(user_new, rng.integers(0, days, total), 0)

    org_created = start_us - ((200 + 800 * rng.random(n_orgs)) * day_us).astype(np.int64)
    since_org = start_us - org_created[user_org]
    user_registered = org_created[user_org] + (rng.random(total) * 0.95 * since_org).astype(np.int64)
    user_registered[founder] = org_created + (rng.random(n_orgs) * 2 * day_us).astype(np.int64)

    org_name, org_domain = _company_names(rng, n_orgs)
    org_plan = rng.choice(len(plans), n_orgs, p=plan_share)
    tz_share = np.array([share for _, _, share in timezones])
    user_tz = rng.choice(len(timezones), total, p=tz_share / tz_share.sum())
    user_first = rng.integers(0, len(first_names), total)
    user_last = rng.integers(0, len(last_names), total)

    # Workspaces are owned by distinct known users who registered before the period.
    can_own = user_known & ~user_new
    owners_per_org = np.bincount(user_org[can_own], minlength=n_orgs)
    ws_per_org = 1 + owners_per_org // 5
    ws_first = np.cumsum(ws_per_org) - ws_per_org
    candidates = np.flatnonzero(can_own)
    candidates = candidates[np.lexsort((rng.random(len(candidates)), user_org[candidates]))]
    cand_org = user_org[candidates]
    rank = np.arange(len(candidates)) - np.searchsorted(cand_org, cand_org)
    owning = rank < ws_per_org[cand_org]
    ws_owner = np.empty(ws_per_org.sum(), np.int64)
    ws_owner[ws_first[cand_org[owning]] + rank[owning]] = candidates[owning]
    owned_rank = np.full(total, -1)
    owned_rank[candidates[owning]] = rank[owning]
    ws_org = user_org[ws_owner]
    ws_created = user_registered[ws_owner] + (
        rng.random(len(ws_owner)) * 0.8 * (start_us - user_registered[ws_owner])).astype(np.int64)
    ws_rank = np.arange(len(ws_owner)) - ws_first[ws_org]
    teams = len(workspace_teams)
    ws_name = [workspace_teams[r % teams] + (f" {r // teams + 1}" if r >= teams else "") for r in ws_rank]
    project_count = np.minimum(1 + rng.poisson(2.0, len(ws_owner)), 8)
    project_first = np.cumsum(project_count) - project_count

    # Each user picks 1-3 consecutive workspaces of their organization, starting at the one they own.
    org_ws = ws_per_org[user_org]
    user_ws_count = np.minimum(rng.choice(3, total, p=workspace_pick_share) + 1, org_ws)
    first_pick = np.where(owned_rank >= 0, owned_rank, (rng.random(total) * org_ws).astype(np.int64))
    slot = np.arange(3)
    user_ws = ws_first[user_org][:, None] + (first_pick[:, None] + slot) % org_ws[:, None]
    user_ws = np.where(slot < user_ws_count[:, None], user_ws, -1)

    member_user, member_slot = np.nonzero((user_ws >= 0) & user_known[:, None])
    member_ws = user_ws[member_user, member_slot]
    owns = ws_owner[member_ws] == member_user
    member_admin = owns | (rng.random(len(member_ws)) < admin_member_share)
    joined = np.maximum(ws_created[member_ws], user_registered[member_user])
    member_invited = np.where(
        owns, ws_created[member_ws], joined + (rng.random(len(member_ws)) * 0.5 * (start_us - joined)).astype(np.int64))

    return Dimensions(
        org_name=org_name, org_domain=org_domain, org_plan=org_plan, org_created=org_created,
        user_org=user_org, user_known=user_known, user_new=user_new, user_reg_day=user_reg_day,
        user_registered=user_registered, user_tz=user_tz, user_first=user_first, user_last=user_last,
        user_ws=user_ws, user_ws_count=user_ws_count, ws_org=ws_org, ws_owner=ws_owner, ws_created=ws_created,
        ws_name=ws_name, project_first=project_first, project_count=project_count, member_ws=member_ws,
        member_user=member_user, member_admin=member_admin, member_invited=member_invited,
    )


def _company_names(rng: np.random.Generator, n_orgs: int) -> tuple[list[str], list[str]]:
    combos = rng.permutation(len(company_stems) * len(company_kinds))
    names, domains = [], []
    for i in range(n_orgs):
        combo = combos[i % len(combos)]
        stem, kind = company_stems[combo // len(company_kinds)], company_kinds[combo % len(company_kinds)]
        repeat = f" {i // len(combos) + 1}" if i >= len(combos) else ""
        names.append(f"{stem} {kind}{repeat}")
        domains.append(f"{stem}{kind}{repeat.strip()}".lower() + domain_suffixes[combo % len(domain_suffixes)])
    return names, domains


def register_new_users(
    rng: np.random.Generator, dims: Dimensions, pieces: list[dict[str, np.ndarray]], start_us: int
) -> None:
    """Users who sign up during the period register (and are invited) shortly before their first event."""
    never = np.iinfo(np.int64).max
    first_seen = np.full(len(dims.user_org), never)
    for piece in pieces:
        of_new = dims.user_new[piece["user"]]
        np.minimum.at(first_seen, piece["user"][of_new], piece["occurred"][of_new])
    new = np.flatnonzero(dims.user_new)
    lead = ((1 + 19 * rng.random(len(new))) * minute_us).astype(np.int64)
    planned = start_us + dims.user_reg_day[new] * day_us + (rng.random(len(new)) * day_us).astype(np.int64)
    dims.user_registered[new] = np.where(first_seen[new] < never, first_seen[new] - lead, planned)
    invited_new = np.flatnonzero(dims.user_new[dims.member_user])
    lead = ((10 + rng.random(len(invited_new)) * 2 * 24 * 60) * minute_us).astype(np.int64)
    dims.member_invited[invited_new] = np.maximum(
        dims.ws_created[dims.member_ws[invited_new]] + minute_us,
        dims.user_registered[dims.member_user[invited_new]] - lead,
    )



def _iso_z(us: np.ndarray) -> np.ndarray:
    return np.char.add(np.datetime_as_string(us.astype("datetime64[us]").astype("datetime64[s]")), "Z")


def write_dimensions(dims: Dimensions, out: Path) -> None:
    n_orgs = len(dims.org_name)
    org_ids = ids("org", 4, n_orgs)
    pd.DataFrame({
        "organization_id": org_ids,
        "name": dims.org_name,
        "domain": dims.org_domain,
        "plan": np.array(plans)[dims.org_plan],
        "created_at": _iso_z(dims.org_created),
    }).to_csv(out / "organizations.csv", index=False)

    known = np.flatnonzero(dims.user_known)
    first = np.array(first_names)[dims.user_first[known]]
    last = np.array(last_names)[dims.user_last[known]]
    domain = np.array(dims.org_domain)[dims.user_org[known]]
    local = np.char.lower(np.char.add(np.char.add(first, "."), np.char.replace(last, "-", "")))
    # Namesakes at one company get a numeric suffix, as mail systems do.
    address = pd.Series(np.char.add(np.char.add(local, "@"), domain))
    repeat = address.groupby(address).cumcount().to_numpy()
    local = np.where(repeat > 0, np.char.add(local, (repeat + 1).astype(str)), local)
    pd.DataFrame({
        "user_id": ids("usr", 6, len(dims.user_org))[known],
        "email": np.char.add(np.char.add(local, "@"), domain),
        "first_name": first,
        "last_name": last,
        "company": np.array(dims.org_name)[dims.user_org[known]],
        "organization_id": org_ids[dims.user_org[known]],
        "registered_at": _iso_z(dims.user_registered[known]),
    }).to_csv(out / "users.csv", index=False)

    ws_ids = ids("ws", 5, len(dims.ws_org))
    pq.write_table(pa.table({
        "workspace_id": ws_ids,
        "name": dims.ws_name,
        "organization_id": org_ids[dims.ws_org],
        "owner_user_id": ids("usr", 6, len(dims.user_org))[dims.ws_owner],
        "created_at": pa.array(dims.ws_created, pa.timestamp("us", tz="UTC")),
    }), out / "workspaces.parquet")

    order = np.lexsort((dims.member_user, dims.member_ws))
    pd.DataFrame({
        "workspace_id": ws_ids[dims.member_ws[order]],
        "user_id": ids("usr", 6, len(dims.user_org))[dims.member_user[order]],
        "role": np.where(dims.member_admin[order], "admin", "developer"),
        "invited_at": _iso_z(dims.member_invited[order]),
    }).to_csv(out / "workspace_members.csv", index=False)


def ids(prefix: str, width: int, n: int) -> np.ndarray:
    return np.char.add(f"{prefix}_", np.char.zfill(np.arange(1, n + 1).astype(str), width))
