"""The judging page's keyboard, its "?" overlay, the time on the pair and the bar's styles.

One ``st.html`` element (:func:`show_keys`) carries them all:

* the styles that keep the choice bar (``st.container(key=BAR_KEY)``) at the bottom of the
  window while the page scrolls, and lay the per-criterion rows out as a compact grid;
* the time on the current pair, counted on in the browser from the seconds the server
  measured when the pair was first drawn (:func:`annotate.ui.annotate.task_state.shown_elapsed`);
* a ``<dialog>`` listing every key (:data:`annotate.ui.annotate.task_state.KEY_HELP`), opened by
  "?" or by its button;
* a small script for the keys Streamlit's own button shortcuts cannot do: "E" focuses the
  rationale, "G" the first per-criterion row, and inside the rows 1/2/3 choose and move
  on, J/K move, Esc leaves. Choices, skip and previous/next are Streamlit shortcuts on
  their buttons (``shortcut=``), so they work without this script too; Streamlit ignores
  them while a checkbox, button or pill has the focus, so there the script presses the
  button itself. Keys work wherever the focus is except inside a text box (Esc leaves it),
  and after a widget change (a ticked box, a study picked) the focus returns to the page;
* the fit of the response panes: ``--wj-pane-h`` is set to the height from the panes' top
  to the choice bar, so both texts fill the window above the bar;
* the fold state of the query and the materials (``<details data-fold>``), remembered per
  person in the browser's local storage.

The element's body depends only on the pair and the study's criteria count, so a rerun
of the same pair sends the same body and the browser keeps its listener and timer.
No untrusted text goes into it (titles and the key list are ours; numbers are numbers).
"""

from __future__ import annotations

import re
from html import escape

import streamlit as st

from annotate.ui.annotate.task_state import KEY_HELP
from annotate.ui.kit.panes import PreparedHtml

BAR_KEY = "wj_bar"
"""Key of the choice bar's container (its CSS class is ``st-key-wj_bar``)."""

GRID_KEY = "wj_grid"
"""Key of the container of the per-criterion rows."""

BAR_CSS = f"""
[data-testid="stMainBlockContainer"]{{padding-top:1.1rem!important;padding-bottom:.25rem!important}}
[data-testid="stHeader"]{{background:transparent;pointer-events:none}}
[data-testid="stHeader"] :is(button,a,[data-testid="stToolbar"]){{pointer-events:auto}}
.st-key-{BAR_KEY} [data-testid="stAlertContainer"]{{padding:.3rem .8rem}}
.st-key-{BAR_KEY} [data-testid="stAlertContainer"] p{{font-size:.9rem}}
.st-key-wj_foot{{gap:.3rem 1rem;flex-wrap:wrap}}
.st-key-wj_foot>[data-testid="stElementContainer"]:first-child{{flex:0 1 auto;width:auto!important}}
[data-testid="stMainBlockContainer"]>div>[data-testid="stVerticalBlock"]{{gap:.5rem}}
.st-key-wj_head{{gap:.2rem 1rem;flex-wrap:wrap}}
.st-key-wj_head h4{{padding:0;font-size:1.15rem;line-height:1.6}}
.st-key-wj_head [data-testid="stElementContainer"]{{width:auto!important}}
[data-testid="stLayoutWrapper"]:has(>.st-key-{BAR_KEY}),.st-key-{BAR_KEY}{{position:sticky;bottom:0;z-index:50}}
.st-key-{BAR_KEY}{{background:var(--wj-bg,#fff);padding:.4rem .1rem .3rem;gap:.35rem;
 border-top:1px solid color-mix(in srgb,currentColor 18%,transparent);box-shadow:0 -8px 14px -10px rgba(0,0,0,.35)}}
.st-key-{BAR_KEY} [data-testid="stForm"]{{padding:0;border:0}}
.st-key-{BAR_KEY} [data-testid="stForm"]>div{{gap:.35rem}}
.st-key-{GRID_KEY}{{display:grid!important;grid-template-columns:repeat(auto-fit,minmax(24rem,1fr));
 gap:0 1.5rem;max-height:34vh;overflow:auto}}
.st-key-{GRID_KEY}>*{{width:auto!important}}
.st-key-{GRID_KEY} [data-testid="stElementContainer"]{{margin:0}}
.st-key-{GRID_KEY} [role="radiogroup"] label{{min-height:0;padding-top:0;padding-bottom:0;margin-bottom:0}}
.st-key-{GRID_KEY} [data-testid="stRadio"] [data-testid="stWidgetLabel"] p{{font-size:.85rem;line-height:1.3}}
.st-key-{GRID_KEY} [data-testid="stRadio"] [role="radiogroup"] p{{font-size:.85rem}}
.st-key-{GRID_KEY} [data-testid="stRadio"]>div{{min-height:0}}
.st-key-{BAR_KEY} [data-testid="stProgress"]{{min-width:12rem;flex:1 1 12rem}}
.st-key-{BAR_KEY} [data-testid="stProgress"] p{{font-size:.8rem;margin:0}}
.st-key-{GRID_KEY} [data-testid="stRadio"]{{display:grid;grid-template-columns:minmax(8rem,1fr) auto;
 align-items:center;column-gap:.8rem}}
.st-key-{GRID_KEY} [data-testid="stRadio"] [data-testid="stWidgetLabel"]{{margin:0;min-height:0}}
.st-key-{GRID_KEY} [role="radiogroup"]{{flex-wrap:nowrap}}
.st-key-{GRID_KEY} [role="radiogroup"]:focus-within{{outline:2px solid color-mix(in srgb,currentColor 45%,transparent);
 border-radius:.3rem}}
.wj-keys{{display:flex;gap:1rem;align-items:center;font-size:.85rem}}
.wj-keys .wj-timer{{font-variant-numeric:tabular-nums;opacity:.8}}
.wj-keys .wj-progress{{display:flex;align-items:center;gap:.5rem;flex:1 1 auto}}
.wj-keys progress{{width:min(16rem,30vw);height:.5rem;accent-color:#ff4b4b}}
.wj-keys button{{font:inherit;padding:.15rem .6rem;border-radius:.4rem;cursor:pointer;background:none;color:inherit;
 border:1px solid color-mix(in srgb,currentColor 25%,transparent)}}
#wj-help{{max-width:40rem;border-radius:.6rem;border:1px solid #8886;padding:1rem 1.4rem}}
#wj-help table{{border-collapse:collapse}}
#wj-help td{{padding:.25rem .8rem .25rem 0;vertical-align:top}}
#wj-help kbd{{font-family:inherit;font-weight:600;white-space:nowrap}}
"""

KEYS_SCRIPT = """
(function(){
var K=window.__wjKeys;if(K){return;}K=window.__wjKeys={starts:{}};
function q(s){return document.querySelector(s);}
function typing(t){return t&&(t.tagName==='TEXTAREA'||t.isContentEditable||
 (t.tagName==='INPUT'&&!/^(checkbox|radio|button|submit)$/.test(t.type)));}
function rows(){return Array.prototype.slice.call(document.querySelectorAll('[class*="st-key-pairs_crit_"] [role="radiogroup"]'));}
function focusRow(r){if(!r){return;}var i=r.querySelector('input:checked')||r.querySelector('input');if(i){i.focus();}}
function stop(e){e.preventDefault();e.stopImmediatePropagation();}
function help(){var d=q('#wj-help');if(!d){return;}if(d.open){d.close();}else{d.showModal();}}
var KEYED={'1':'pairs_choice_left_','2':'pairs_choice_right_','3':'pairs_choice_tie_','4':'pairs_choice_both_poor_',
 's':'pairs_skip_','p':'pairs_previous_','n':'pairs_next_'};
function press(k){var b=q('[class*="st-key-'+KEYED[k]+'"] button');if(b&&!b.disabled){b.click();return true;}return false;}
function onPage(t){return !t||t===document.body||t===document.documentElement||t===document;}
function person(){var t=q('#wj-timer');return t?t.getAttribute('data-person')||'':'';}
function folds(){var p=person();document.querySelectorAll('details[data-fold]').forEach(function(d){
 if(d.hasAttribute('data-wj-fold')){return;}d.setAttribute('data-wj-fold','1');var v=null;
 try{v=localStorage.getItem('wj-fold:'+p+':'+d.getAttribute('data-fold'));}catch(x){}if(v==='1'){d.open=true;}});}
function scroller(el){while(el&&el!==document.body){var o=getComputedStyle(el).overflowY;
 if((o==='auto'||o==='scroll')&&el.scrollHeight>el.clientHeight){return el;}el=el.parentElement;}return null;}
function fit(){var row=q('.wj-view .wj-row'),bar=q('.st-key-wj_bar');if(!row||!bar){return;}
 var s=scroller(row.parentElement),top=row.getBoundingClientRect().top+(s?s.scrollTop:0)+window.scrollY;
 var h=Math.max(240,Math.floor(window.innerHeight-top-bar.getBoundingClientRect().height-12))+'px';
 var st=document.documentElement.style;if(st.getPropertyValue('--wj-pane-h')!==h){st.setProperty('--wj-pane-h',h);}}
function later(){if(K.raf){return;}K.raf=setTimeout(function(){K.raf=0;folds();fit();picked();},30);}
new MutationObserver(later).observe(document.body,{childList:true,subtree:true});
window.addEventListener('resize',later);
document.addEventListener('toggle',function(e){var d=e.target;if(!d||!d.hasAttribute||!d.hasAttribute('data-wj-fold')){return;}
 try{localStorage.setItem('wj-fold:'+person()+':'+d.getAttribute('data-fold'),d.open?'1':'0');}catch(x){}later();},true);
document.addEventListener('change',function(e){var t=e.target;if(K.keyed||typing(t)||!q('.st-key-wj_bar')){return;}
 setTimeout(function(){if(document.activeElement===t){t.blur();}},0);},true);
function combo(a){return a&&a.getAttribute&&a.getAttribute('role')==='combobox';}
document.addEventListener('focusin',function(e){if(combo(e.target)){K.comboValue=e.target.value;}},true);
function picked(){var a=document.activeElement;if(combo(a)&&q('.st-key-wj_bar')&&
 a.getAttribute('aria-expanded')!=='true'&&a.value!==K.comboValue){K.comboValue=a.value;a.blur();}}
document.addEventListener('click',function(e){if(e.target&&e.target.closest&&e.target.closest('.wj-help-open')){help();}});
window.addEventListener('keydown',function(e){
 if(e.ctrlKey||e.metaKey||e.altKey||!q('.st-key-wj_bar')){return;}
 var t=e.target,d=q('#wj-help'),k=e.key;
 if(d&&d.open){if(k==='?'||k==='Escape'){d.close();stop(e);}return;}
 if(typing(t)){if(k==='Escape'){t.blur();stop(e);}
  return;}
 var rs=rows(),row=t&&t.closest?t.closest('[role="radiogroup"]'):null,i=rs.indexOf(row);
 if(i>=0){
  if(/^[123]$/.test(k)){var l=row.querySelectorAll('label')[Number(k)-1];K.keyed=true;if(l){l.click();}
   focusRow(rs[i+1]||rs[i]);K.keyed=false;stop(e);return;}
  if(k==='j'||k==='k'){focusRow(rs[i+(k==='j'?1:-1)]||rs[i]);stop(e);return;}
  if(k==='Escape'){t.blur();stop(e);return;}
 }
 if(k==='?'){help();stop(e);}
 else if(k==='e'||k==='E'){var a=q('[class*="st-key-pairs_rationale_"] input');if(a){a.focus();stop(e);}}
 else if(k==='g'||k==='G'){if(rs.length){focusRow(rs[0]);stop(e);}}
 else if(KEYED[k.toLowerCase()]&&!onPage(t)){
  stop(e);if(t.blur){t.blur();}press(k.toLowerCase());}
 else if(k==='Escape'&&!onPage(t)&&t.blur){t.blur();}
},true);
function two(n){return (n < 10 ? '0' : '')+n;}
function tick(){
 var app=q('.stApp');if(app){document.documentElement.style.setProperty('--wj-bg',getComputedStyle(app).backgroundColor);}
 var el=q('#wj-timer');if(!el){return;}
 var aid=el.getAttribute('data-aid'),base=Number(el.getAttribute('data-elapsed'))||0;
 if(!(aid in K.starts)){K.starts[aid]=Date.now()-base*1000;}
 var s=Math.floor((Date.now()-K.starts[aid])/1000),m=Math.floor(s/60);
 el.textContent=(m?m+' min '+two(s%60)+' s':s+' s')+' on this pair';
}
tick();folds();fit();setInterval(function(){tick();fit();},1000);
})();
"""
"""The page's key handler and timer (installed once per browser tab, whatever the reruns).

No ``<`` may be followed by a letter, digit or ``/`` in it: the browser's sanitizer
(DOMPurify, ``SAFE_FOR_XML``) drops a script whose text looks like markup."""
if re.search(r"<[/\w]", KEYS_SCRIPT):  # checked once, at import
    raise RuntimeError("KEYS_SCRIPT has '<' before a letter, digit or '/': the browser would drop it")


def keys_html(*, assignment_id: int, elapsed: float, showing: float = 0.0,
              progress: tuple[int, int, str] | None = None, person: int = 0) -> str:
    """The body of :func:`show_keys`: styles, timer, "?" button and overlay, script.

    ``showing`` (when this showing of the pair began, epoch seconds) tells two showings of
    one pair apart: a pair opened again counts from its new start, not the first one.
    ``progress`` = (judged, total, study name) adds a progress bar and its line.
    ``person`` (the account's id) names whose fold states the script remembers.

    Example:
        >>> html = keys_html(assignment_id=7, elapsed=12.0, showing=1700000000.25)
        >>> 'data-aid="7-1700000000250"' in html and 'data-elapsed="12"' in html and "<dialog" in html
        True
    """
    rows = "".join(f"<tr><td><kbd>{escape(key)}</kbd></td><td>{escape(what)}</td></tr>" for key, what in KEY_HELP)
    bar = ""
    if progress is not None:
        done, total, study = int(progress[0]), int(progress[1]), escape(str(progress[2]))
        line = f"{done} of {total} pairs judged in study {study}"
        bar = (f'<span class="wj-progress"><progress value="{done}" max="{max(total, 1)}" aria-label="{line}">'
               f"</progress>{line}</span>")
    return (f"<style>{BAR_CSS}</style>"
            f'<div class="wj-keys">{bar}<span id="wj-timer" class="wj-timer" data-aid="{int(assignment_id)}-{int(showing * 1000)}" '
            f'data-elapsed="{int(elapsed)}" data-person="{int(person)}" aria-live="off">{int(elapsed)} s on this pair</span>'
            '<button type="button" class="wj-help-open" aria-haspopup="dialog">Keys (?)</button></div>'
            '<dialog id="wj-help" aria-label="Keyboard shortcuts"><h4 style="margin-top:0">Keyboard shortcuts</h4>'
            f"<table>{rows}</table><p style=\"opacity:.7;margin-bottom:0\">Keys do nothing while you type in a "
            "text box. Press ? or Esc to close.</p></dialog>"
            f"<script>{KEYS_SCRIPT}</script>").replace("\n", "")


def show_keys(*, assignment_id: int, elapsed: float, showing: float = 0.0,
              progress: tuple[int, int, str] | None = None, person: int = 0) -> None:
    """Draw :func:`keys_html` (one element; the same body on every rerun of one showing)."""
    st.html(PreparedHtml(keys_html(assignment_id=assignment_id, elapsed=elapsed, showing=showing,
                                   progress=progress, person=person)), unsafe_allow_javascript=True)
