"""``credo events catalogue|status|pump`` — the business event stream."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "业务事件：catalogue 列出事件目录，status 显示各消费者进度，pump 立即封存并分发。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["catalogue", "status", "pump"])
        parser.add_argument("--json", action="store_true", help="JSON output")

    def handle(self, *args: Any, **opts: Any) -> None:
        from credo.core.events.catalogue import catalogue
        from credo.core.events.models import EventCursor
        from credo.core.events.stream import consumers, events_pump, sealed_head

        what = opts["what"]
        if what == "catalogue":
            rows = catalogue()
            if opts["json"]:
                self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
                return
            for r in rows:
                self.stdout.write(f"{r['group']}\t{r['key']}\t{r['label']}\t{r['object_type']}")
            return
        if what == "pump":
            handed = events_pump()
            for key, n in handed.items():
                self.stdout.write(f"{key}: {n}")
            return
        head = sealed_head()
        cursors = {c.name: c for c in EventCursor.objects.all()}
        rows = []
        for consumer in consumers:
            c = cursors.get(consumer.key)
            rows.append(
                {
                    "consumer": consumer.key,
                    "seq": c.seq if c else None,
                    "behind": (head - c.seq) if c else None,
                    "delivered": c.delivered if c else 0,
                    "last_error": c.last_error if c else "",
                }
            )
        if opts["json"]:
            self.stdout.write(json.dumps({"head": head, "consumers": rows}, ensure_ascii=False))
            return
        self.stdout.write(f"封存链头：#{head}")
        for r in rows:
            self.stdout.write(
                f"{r['consumer']}: 已处理至 #{r['seq']}，落后 {r['behind']}，"
                f"已投递 {r['delivered']}{'，错误：' + r['last_error'] if r['last_error'] else ''}"
            )
