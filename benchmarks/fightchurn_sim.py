#!/usr/bin/env python
"""fightchurn's ChurnSim (socialnet7) with another seed, as the shared set's CSVs.

The shared ``fightchurn_socialnet7_sim`` set is seed 7; issue 17's logistic
target is also measured on unseen seeds. This writes other seeds in exactly
that format (with ``--seed 7`` it reproduces the shared files row for row), for
``benchmarks/fightchurn_seeds.py``. It needs the ``fightchurn`` package (MIT,
Carl Gold), not a churnkit dependency: install it in a separate environment::

    python -m venv /tmp/fc && /tmp/fc/bin/pip install fightchurn==1.2.0
    /tmp/fc/bin/python benchmarks/fightchurn_sim.py --seed 1 --out /tmp/fc_sim/seed1

Replicates ChurnSimulation.run_simulation without PostgreSQL: overrides
init_customers=1000, random_seed=SEED, end_date=2020-07-01 (start 2020-01-01);
python ``random`` and numpy seeded with SEED; customers simulated one by one in
the order of run_simulation (n_parallel=1); each customer written the way
add_customer_to_database / customer_events_subs_to_database would write it.
Outputs (in --out DIR): account.csv, subscription.csv, event.csv.gz (events
sorted by time, stable in generation order; events on or after end_date cut).

"""

import argparse
import csv
import gzip
import io
import os
import random
import tempfile
import time as _time
from datetime import datetime
from math import ceil

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--init-customers", type=int, default=1000)
    ap.add_argument("--end-date", default="2020-07-01")
    args = ap.parse_args()

    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    # a private scratch dir: the simulator copies its config there
    # (CHURN_OUT_DIR) and keeps the customer-id counter in a file; one per
    # run, so parallel runs cannot interfere
    work = tempfile.mkdtemp(
        prefix=f"work_seed{args.seed}_", dir=os.path.dirname(out_dir)
    )
    os.environ["CHURN_OUT_DIR"] = work

    import fightchurn.churnsim.churnsim as cs
    from dateutil.relativedelta import relativedelta
    from fightchurn.churnsim.customer import Customer
    from hydra import compose, initialize_config_dir

    Customer.ID_FILE = os.path.join(work, "churn_customer_id.txt")
    Customer.ID_LOCK_FILE = os.path.join(work, "churn_customer_id_lock.txt")
    Customer.date_multipliers = {}

    conf_dir = os.path.join(os.path.dirname(cs.__file__), "conf")
    with initialize_config_dir(config_dir=conf_dir, version_base=None):
        cfg = compose(
            config_name="socialnet7",
            overrides=[
                f"init_customers={args.init_customers}",
                f"random_seed={args.seed}",
                f"end_date={args.end_date}",
            ],
        )

    # as in run_churn_simulation: seed python random; the behaviour models
    # then seed numpy
    random.seed(cfg.random_seed)
    np.random.seed(cfg.random_seed)
    sim = cs.ChurnSimulation(cfg)
    sim.remove_tmp_files()

    event_names = list(
        sim.model_list[0].behave_names
    )  # event_type_id -> name (insert_event_types)
    end_dt = datetime.combine(sim.end_date, datetime.min.time())

    accounts, subs, events = [], [], []

    def run_month(month_date, n):
        for _ in range(n):
            c = sim.simulate_customer(month_date)
            # add_customer_to_database
            accounts.append(
                (
                    c.id,
                    c.channel,
                    c.date_of_birth.isoformat(),
                    "" if c.country == "None" else c.country,
                )
            )
            # customer_events_subs_to_database
            for s in c.subscriptions:
                subs.append(
                    (
                        c.id,
                        s[0],
                        s[1].isoformat(),
                        s[2].isoformat(),
                        float(s[3]),
                        "" if s[4] is None else s[4],
                        "" if s[5] is None else s[5],
                        int(s[6]),
                        float(s[7]),
                    )
                )
            for e in c.events:
                if e[0] < end_dt:
                    events.append((e[0], c.id, e[1]))

    t0 = _time.time()
    print(
        f"seed {args.seed}: {sim.init_customers} initial customers "
        f"for {sim.start_date}",
        flush=True,
    )
    run_month(sim.start_date, sim.init_customers)
    next_month = sim.start_date + relativedelta(months=+1)
    n_to_add = int(ceil(sim.init_customers * sim.monthly_growth_rate))
    while next_month < sim.end_date:
        print(
            f"seed {args.seed}: {n_to_add} new customers for {next_month} "
            f"({_time.time() - t0:.0f}s)",
            flush=True,
        )
        run_month(next_month, n_to_add)
        next_month = next_month + relativedelta(months=+1)
        n_to_add = int(ceil(n_to_add * (1.0 + sim.monthly_growth_rate)))
    sim.remove_tmp_files()

    with open(os.path.join(out_dir, "account.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["account_id", "channel", "date_of_birth", "country"])
        w.writerows(accounts)
    with open(os.path.join(out_dir, "subscription.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            [
                "account_id",
                "product",
                "start_date",
                "end_date",
                "mrr",
                "quantity",
                "units",
                "bill_period_months",
                "discount",
            ]
        )
        w.writerows(subs)
    events.sort(key=lambda e: e[0])  # stable: ties keep generation (account) order
    with gzip.GzipFile(os.path.join(out_dir, "event.csv.gz"), "wb", mtime=0) as gz:
        with io.TextIOWrapper(gz, encoding="utf-8", newline="") as f:
            f.write("account_id,event_time,event_type\n")
            f.writelines(
                f"{aid},{t:%Y-%m-%d %H:%M:%S},{event_names[tid]}\n"
                for t, aid, tid in events
            )

    # cleanup scratch
    for root, dirs, files in os.walk(work, topdown=False):
        for fn in files:
            os.remove(os.path.join(root, fn))
        for d in dirs:
            os.rmdir(os.path.join(root, d))
    os.rmdir(work)
    print(
        f"seed {args.seed}: accounts {len(accounts)}, subscriptions {len(subs)}, "
        f"events {len(events)} "
        f"-> {out_dir} ({_time.time() - t0:.0f}s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
