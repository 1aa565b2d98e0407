"""Hot-topic discovery: online clustering of posts into topics, labels, hot scores and bursts.

Pure code (no Flask, no database) so the collection pipeline and the side-effect-free `analyze`
command share it; the database layer persists `TopicClusterer.export_state` and rebuilds from it.
"""
