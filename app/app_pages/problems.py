import streamlit as st

st.title("Problems")
st.info(
    "Grouped problems (an expiring certificate on one MX, a policy host down, a silent reporter...) with their "
    "diagnosis, fix and evidence will appear here once problem detection lands (the anomaly issue). Until then, "
    "the By result and By sending source pages show every failure."
)
