"""Guidelines (annotator): how to judge a pair, what equivalence and the flags mean."""

from __future__ import annotations

import streamlit as st

from annotate.ui.annotate.task_state import KEY_HELP
from annotate.ui.session import require_page

require_page(__file__)
st.title("Guidelines")

st.markdown(
    """
Each task shows one writing **query** (sometimes with **materials**: reference documents
the writer was given) and two responses, **Response A** on the left and **Response B** on
the right. You do not know which systems wrote them, and their order says nothing: the
same pair is shown the other way round to other annotators.

### What to judge
1. **Read the query first, to the end.** List its requirements for yourself: the task,
   the audience, the format and structure, the length, the tone, the language, and any
   explicit constraints ("no more than 500 words", "use a table", "in formal Chinese").
2. **Check the use of the materials.** When materials are given, the response should use
   them correctly: facts, figures and names taken from them must be accurate; important
   points should not be ignored; nothing should be invented that contradicts them. Open
   the materials (they are collapsed) and check the claims you doubt.
3. **Compare the responses against those requirements**, not against your own taste.
   A longer or more polished response is not better if it misses a requirement that the
   shorter one meets. Formatting counts only as far as the query asks for it.
4. Choose **A is better**, **B is better**, **Equivalent** or **Both are poor**.

### Equivalent and "both are poor"
- Choose **Equivalent** when neither response meets the query's requirements clearly
  better than the other: both are good in different ways, or they differ only in ways
  the query does not care about.
- Choose **Both are poor** when neither response is acceptable (for example both ignore
  the main task). It is a choice of its own and counts as a tie: a poor pair has no
  better side, so it never goes with A or B. The export records it as a tie between two
  bad responses. If one of two poor responses is still clearly better, choose that one.

### Criteria
Some studies also ask for a choice per criterion (the query's own criteria, shown as a
grid of rows above the choices: A, B or Equivalent for each). Judge each criterion on its own; the overall choice may differ from the
majority of the criteria.

### Flags
- **Problem with the query** (*Query problem* on the bar): it is unclear, contradictory, impossible, or its materials
  are missing or broken. Still judge the pair as well as you can.
- **A response is cut off** (*Cut off* on the bar): a response stops mid-sentence or mid-structure. Judge what is
  there; a cut-off response usually fails requirements such as length or completeness.
- **Needs an expert**: judging requires domain knowledge you do not have (law, medicine,
  finance, ...). Still give your best judgment; an expert may look at it.
- **Needs materials**: the query leans on documents, data or context it does not give (a
  report to summarise, figures to cite). Judge what is there; an expert looks for materials.

### Rationale, skipping and revising
- The **rationale** is optional; one sentence on the deciding requirement helps the
  researchers audit disagreements.
- **Skip for now** puts a pair at the back of your queue; it comes back after the others.
  Skipped pairs are listed under **Skipped pairs** in the sidebar; open one from there
  at any time.
- Your judgments stay editable: open one from **My judgments** in the sidebar (each line
  shows your answer and the first words of the query) and choose again. The earlier
  answer is kept in the history. **Previous pair** and **Next pair** step through your list.
- The time you spend on a pair is recorded (from when it is first shown until you
  submit) and shown beside the choices. Take the time the pair needs; there is no target.

### Reading long texts
Every text scrolls in its own pane while the choices stay at the bottom of the window.
**Full height** above a pane shows the whole text at once; **Raw text** shows it exactly
as written, without formatting (line breaks are always shown as written).

### Keyboard shortcuts
When no text field is focused (press **?** on the judging page to see this list):
"""
)
st.table({"Key": [key for key, _ in KEY_HELP], "What it does": [what for _, what in KEY_HELP]})
st.markdown(
    """
A choice key submits at once (with whatever flags and rationale you set). Inside the
rationale box the keys type normally. If a shortcut fired by mistake, open the pair from
**My judgments** and submit the right answer.
"""
)
