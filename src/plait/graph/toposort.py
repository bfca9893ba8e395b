"""Topological order with named cycle errors, shared by the graph and the spec compiler."""

from collections.abc import Callable, Hashable, Iterable

from plait.graph.errors import GraphError


def topological_order(items: Iterable[Hashable], parents: Callable[[Hashable], Iterable[Hashable]],
                      what: str = "node") -> list:
    """Order `items` so that each comes after its parents; ties keep the given order.

    Args:
        items: the items to order; parents outside this set are ignored.
        parents: the items each item depends on.
        what: the word for an item in the cycle error ("node", "block").

    Raises:
        GraphError: the items form a cycle; the message lists it.
    """
    items = list(items)
    known = set(items)
    deps = {item: [p for p in parents(item) if p in known] for item in items}
    state: dict[Hashable, int] = {}  # 1 = on the current path, 2 = placed
    order: list = []
    for root in items:
        if state.get(root) == 2:
            continue
        stack = [(root, iter(deps[root]))]
        state[root] = 1
        while stack:
            item, pending = stack[-1]
            parent = next(pending, None)
            if parent is None:
                stack.pop()
                state[item] = 2
                order.append(item)
            elif state.get(parent) == 1:
                path = [entry[0] for entry in stack]
                cycle = [*path[path.index(parent):], parent]
                raise GraphError(f"cycle between {what}s: " + " -> ".join(map(str, cycle)))
            elif state.get(parent) is None:
                state[parent] = 1
                stack.append((parent, iter(deps[parent])))
    return order
