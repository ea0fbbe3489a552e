#!/usr/bin/env python3
"""XGBoost side of bench/gbm.bench.ts: trains `hist` trees and predicts on the same data.

Usage: /usr/bin/python3 bench/gbm_xgboost.py DATA_PREFIX ROUNDS THREADS SCORE_ROWS
DATA_PREFIX.x.f64 (rows x features, row-major float64), DATA_PREFIX.y.u8, DATA_PREFIX.meta.json
({"rows", "trainRows", "features"}). Prints one JSON document.
"""
import json, sys, time
import numpy as np
import xgboost as xgb

prefix, rounds, threads, score_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
meta = json.load(open(prefix + ".meta.json"))
n, p, n_train = meta["rows"], meta["features"], meta["trainRows"]
x = np.fromfile(prefix + ".x.f64", dtype=np.float64).reshape(n, p)
y = np.fromfile(prefix + ".y.u8", dtype=np.uint8).astype(np.float32)
x_train, y_train, x_test, y_test = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
params = dict(tree_method="hist", objective="binary:logistic", max_depth=6, eta=0.3, max_bin=256,
              reg_lambda=1.0, min_child_weight=1.0, nthread=threads, eval_metric="logloss")
c0 = time.process_time()
t0 = time.perf_counter()
dtrain = xgb.DMatrix(x_train, label=y_train, nthread=threads)
t1 = time.perf_counter()
booster = xgb.train(params, dtrain, num_boost_round=rounds)
t2 = time.perf_counter()
c2 = time.process_time()
prob = booster.inplace_predict(x_test)
eps = 1e-15
prob = np.clip(prob.astype(np.float64), eps, 1 - eps)
logloss = float(-np.mean(y_test * np.log(prob) + (1 - y_test) * np.log(1 - prob)))
# Scoring: the test rows' float32 copy repeated until score_rows rows are scored.
chunk = np.ascontiguousarray(x_train[: min(n_train, 1_000_000)], dtype=np.float32)
booster.inplace_predict(chunk[:1000])
t3 = time.perf_counter()
c3 = time.process_time()
done = 0
while done < score_rows:
    rows = min(len(chunk), score_rows - done)
    booster.inplace_predict(chunk[:rows], predict_type="margin")
    done += rows
t4 = time.perf_counter()
c4 = time.process_time()
print(json.dumps({"version": xgb.__version__, "threads": threads, "rounds": rounds, "trainRows": n_train,
                  "dmatrixSeconds": t1 - t0, "trainSeconds": t2 - t1, "totalTrainSeconds": t2 - t0,
                  "heldOutLogLoss": logloss, "scoreRows": score_rows, "scoreSeconds": t4 - t3, "trainCpuSeconds": c2 - c0, "scoreCpuSeconds": c4 - c3}))
