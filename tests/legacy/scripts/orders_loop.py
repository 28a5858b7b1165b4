# -*- coding: utf-8 -*-
# jqtrade 1.0 style (issue 10, item 3): get_orders() was a dict {order_id: UserOrder}.
# 1.0 scripts loop over its keys; the seed README loops over order objects. Both must cancel.
# Resting buys: the simulator never trades 000002.XSHE at 27.00 or 600000.XSHG at 14.80 on 2024-06-03.
import json


def check(key, value):
    print("CHECK", key, json.dumps(value, default=str, ensure_ascii=False))


def process_initialize(context):
    set_options(account_no="1234567")
    run_daily(place_first, "10:00")
    run_daily(cancel_by_keys, "10:01")
    run_daily(check_first, "10:05")
    run_daily(place_second, "10:10")
    run_daily(cancel_by_objects, "10:11")
    run_daily(check_second, "10:15")
    run_daily(place_third, "10:20")
    run_daily(cancel_third, "10:21")
    run_daily(check_third, "10:25")


g = {}


def place_first(context):
    g["first"] = [
        order("000002.XSHE", 100, LimitOrderStyle(27.0)),
        order("600000.XSHG", 100, LimitOrderStyle(14.8)),
    ]
    check("first_ids", g["first"])


def cancel_by_keys(context):
    # the jqtrade 1.0 loop: iterating the dict gives order ids
    for oid in get_orders():
        cancel_order(oid)
    check("cancel_by_keys_done", True)


def check_first(context):
    orders = get_orders()
    check("first_statuses", [orders[oid].status for oid in g["first"]])


def place_second(context):
    g["second"] = [
        order("000002.XSHE", 200, LimitOrderStyle(27.0)),
        order("600000.XSHG", 200, LimitOrderStyle(14.8)),
    ]
    check("second_ids", g["second"])


def cancel_by_objects(context):
    # the seed README loop: iterating gives order objects
    orders = get_orders()
    for _order in orders:
        if _order.status in ("new", "open"):
            log.info(f"查询到未完成订单：{_order}")
            cancel_order(_order.order_id)
    check("cancel_by_objects_done", True)


def check_second(context):
    orders = get_orders()
    check("second_statuses", [orders[oid].status for oid in g["second"]])


def place_third(context):
    g["third"] = [
        order("000002.XSHE", 300, LimitOrderStyle(27.0)),
        order("600000.XSHG", 300, LimitOrderStyle(14.8)),
    ]
    check("third_ids", g["third"])


def cancel_third(context):
    orders = get_orders()
    # the 1.0 README loop: .items()
    first_id, first_order = [(oid, o) for oid, o in orders.items() if oid == g["third"][0]][0]
    check("items_pair_matches", first_order.order_id == first_id)
    check("keys_are_ids", sorted(orders.keys()) == sorted(o.order_id for o in orders.values()))
    check("len_orders", len(orders))
    check("id_in_orders", g["third"][0] in orders)
    # cancel by the order object itself (JoinQuant habit)
    cancel_order(orders[g["third"][0]])
    # look an order up by the object as well as by its id
    cancel_order(get_orders()[orders[g["third"][1]]].order_id)
    try:
        get_orders()["no-such-order"]
        check("missing_raises_keyerror", False)
    except KeyError:
        check("missing_raises_keyerror", True)
    check("filter_by_id", list(get_orders(order_id=g["third"][0]).keys()))


def check_third(context):
    orders = get_orders()
    check("third_statuses", [orders[oid].status for oid in g["third"]])
    check("open_left", sorted(oid for oid, o in orders.items() if o.status in ("new", "open", "filling")))
