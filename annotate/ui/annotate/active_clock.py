"""The task pages' active-time clock: a small script that counts the seconds a person works
on the task shown and sends them to the server (:mod:`annotate.api.active_beats`).

A second counts when the tab is visible (``document.visibilityState``) and there was input
(pointer, key, wheel, scroll, touch) within the last N seconds
(:func:`annotate.services.annotate.active_time.idle_seconds`). Every
:func:`~annotate.services.annotate.active_time.beat_seconds` the seconds counted since the
last heartbeat, if any, are posted for the task's current showing (its assignment id and
the revision a submit would store). A reload installs the script again and continues the
same showing on the server, so the time adds up; a new task or revision starts from zero.

The script is installed once per browser tab (whatever the reruns) and reads the task from
the ``#wj-active`` element, which :func:`show_active_clock` draws in the sidebar (no space
in the page's layout). No untrusted text goes into it: numbers and our own path only.
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from annotate.api.active_beats import ACTIVE_PATH
from annotate.services.annotate.active_time import beat_seconds, idle_seconds
from annotate.ui.kit.panes import PreparedHtml

CLOCK_SCRIPT = """(function(){
var W=window;if(W.__wjActive){return;}
var A=W.__wjActive={input:Date.now(),key:null,pending:0,ticks:0};
var mark=function(){A.input=Date.now();};
['pointermove','pointerdown','keydown','wheel','scroll','touchstart'].forEach(function(e){
 document.addEventListener(e,mark,{capture:true,passive:true});});
var send=function(el,secs){
 fetch(el.getAttribute('data-url'),{method:'POST',credentials:'same-origin',keepalive:true,
  headers:{'Content-Type':'application/json'},body:JSON.stringify({assignment_id:+el.getAttribute('data-aid'),
  revision:+el.getAttribute('data-rev'),active_s:secs})}).catch(function(){});};
setInterval(function(){
 var el=document.getElementById('wj-active');if(!el){return;}
 var key=el.getAttribute('data-aid')+'-'+el.getAttribute('data-rev');
 if(key!==A.key){A.key=key;A.pending=0;A.ticks=0;}
 var idle=1000*(+el.getAttribute('data-idle')),every=Math.max(1,+el.getAttribute('data-every'));
 if(document.visibilityState==='visible'&&idle>Date.now()-A.input){A.pending+=1;}
 A.ticks+=1;
 if(A.ticks>=every){A.ticks=0;if(A.pending>0){send(el,A.pending);A.pending=0;}}
},1000);
})();"""
"""Installed once per tab. No ``<`` may be followed by a letter, digit or ``/`` (the browser's
sanitizer drops such a script; see :data:`annotate.ui.annotate.judge_keys.KEYS_SCRIPT`)."""
if re.search(r"<[/\w]", CLOCK_SCRIPT):  # checked once, at import
    raise RuntimeError("CLOCK_SCRIPT has '<' before a letter, digit or '/': the browser would drop it")


def clock_html(*, assignment_id: int, revision: int, idle_s: float, beat_s: float) -> str:
    """The body of :func:`show_active_clock`.

    Example:
        >>> html = clock_html(assignment_id=7, revision=2, idle_s=30, beat_s=5)
        >>> 'data-aid="7"' in html and 'data-rev="2"' in html and 'data-idle="30"' in html
        True
    """
    return (f'<span id="wj-active" hidden data-aid="{int(assignment_id)}" data-rev="{int(revision)}" '
            f'data-idle="{float(idle_s):g}" data-every="{max(1, round(float(beat_s)))}" '
            f'data-url="{ACTIVE_PATH}"></span><script>{CLOCK_SCRIPT}</script>')


def show_active_clock(task: Any) -> None:
    """Draw the clock for ``task`` (a :class:`~annotate.services.annotate.tasks.TaskView`) in the
    sidebar; the showing is the revision its next submit stores."""
    existing = getattr(task, "existing", None)
    revision = (int(existing.revision) if existing is not None else 0) + 1
    st.sidebar.html(PreparedHtml(clock_html(assignment_id=int(task.assignment_id), revision=revision,
                                            idle_s=idle_seconds(), beat_s=beat_seconds())),
                    unsafe_allow_javascript=True)
