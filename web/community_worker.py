"""The serving process's community index upkeep (`kb serve`): one background thread that, every
`community_index_interval` seconds, reads the searchable community questions and embeds the new or changed ones
(search/community.py), so a newly accepted answer is searchable within a pass or two. It runs at the lowest CPU
priority a thread gets (web/background.py) and never stops serving: a failed pass is logged and
the next one tries again.
"""
from __future__ import annotations

from flask import Flask

from search.community import Refresh, refresh_from_database
from web.background import PeriodicPass
from web.community_search import community_index


class CommunityWorker(PeriodicPass):
    thread_name, extension, failure = "kb-community-index", "kb.community_worker", "community: index refresh failed"

    def __init__(self, app: Flask, interval: float | None = None) -> None:
        settings = app.config["KB_SETTINGS"]
        super().__init__(app, settings.community_index_interval if interval is None else interval)
        self.min_votes = settings.community_search_min_votes

    def run_once(self) -> Refresh:
        return refresh_from_database(community_index(self.app), self.app.extensions["kb.db"], self.served(),
                                     self.min_votes)

    def report(self, done: Refresh) -> None:
        if done.embedded or done.removed:
            self.log.info("community: %d question(s) searchable, %d embedded, %d dropped", done.documents,
                          done.embedded, done.removed)
