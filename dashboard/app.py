"""Entry point for ``streamlit run dashboard/app.py``: wiring only.

Pages live in ``dashboard/views/`` (not ``pages/``, which Streamlit would
also pick up as an implicit page directory), queries in ``dashboard/data.py``.
"""

import streamlit as st

from dashboard import auth, ui

st.set_page_config(page_title="Platform Scorecard", page_icon=":material/military_tech:", layout="wide")
auth.require_login()  # with SSO configured, nothing below runs for a visitor not signed in

navigation = st.navigation(
    [
        st.Page(
            "views/adoption.py", title="Adoption", icon=":material/trending_up:", url_path="adoption", default=True
        ),
        st.Page("views/teams.py", title="Teams", icon=":material/groups:", url_path="teams"),
        st.Page("views/service.py", title="Service", icon=":material/deployed_code:", url_path="service"),
        st.Page("views/checks.py", title="Checks", icon=":material/checklist:", url_path="checks"),
        st.Page("views/compare.py", title="Compare snapshots", icon=":material/compare_arrows:", url_path="compare"),
        st.Page("views/initiatives.py", title="Initiatives", icon=":material/flag:", url_path="initiatives"),
        st.Page("views/roi.py", title="Platform ROI", icon=":material/insights:", url_path="roi"),
    ]
)
ui.sidebar()
navigation.run()
