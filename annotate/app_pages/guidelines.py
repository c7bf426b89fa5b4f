"""Guidelines (annotator): how to judge a pair, what equivalence and the flags mean."""

from __future__ import annotations

import streamlit as st

from annotate.ui.session import require_page_role

require_page_role("annotator", "researcher", "admin")
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
4. Choose **A is better**, **B is better** or **Equivalent**.

### Equivalent and "both are poor"
- Choose **Equivalent** when neither response meets the query's requirements clearly
  better than the other: both are good in different ways, or they differ only in ways
  the query does not care about.
- Mark **Both are poor** (under "Marks") when neither response is acceptable (for example both ignore the
  main task). You can mark it with any choice, but it usually goes with Equivalent: the
  export records that as a tie between two bad responses.

### Criteria
Some studies also ask for a choice per criterion (the query's own criteria, shown with the
judgment form). Judge each criterion on its own; the overall choice may differ from the
majority of the criteria.

### Flags
- **Problem with the query**: it is unclear, contradictory, impossible, or its materials
  are missing or broken. Still judge the pair as well as you can.
- **A response is cut off**: a response stops mid-sentence or mid-structure. Judge what is
  there; a cut-off response usually fails requirements such as length or completeness.
- **Needs an expert**: judging requires domain knowledge you do not have (law, medicine,
  finance, ...). Still give your best judgment; an expert may look at it.

### Rationale, skipping and revising
- The **rationale** is optional; one sentence on the deciding requirement helps the
  researchers audit disagreements.
- **Skip for now** puts a pair at the back of your queue; it comes back after the others.
- Your judgments stay editable: open one from **My judgments** under the form and submit
  again. The earlier answer is kept in the history.
- The time you spend on a pair is recorded (from when it is first shown until you
  submit). Take the time the pair needs; there is no target.

### Keyboard shortcuts
When no text field is focused, **1** chooses *A is better*, **2** *B is better* and
**3** *Equivalent*, and submits at once (with whatever flags and rationale you set).
Inside the rationale box the keys type normally. If a shortcut fired by mistake, open
the pair from **My judgments** and submit the right answer.
"""
)
