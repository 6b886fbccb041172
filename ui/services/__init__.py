"""The Services section: the tree of the orchestration service and its instances, their
pages (form, state, history, pull progress), the "+" dialog, and the flows that carry a
person's requests to the core and its answers back."""
