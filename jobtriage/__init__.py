"""jobtriage: the finished investigation of a failed Cloud Run Job, in Slack.

The pipeline, in the order a failure travels through it:

    event.py      CloudEvent / LogEntry  -> JobEvent (which execution, what outcome)
    evidence/     JobEvent               -> Evidence (Run API + Logging, gathered once)
    ../analyzers  Evidence               -> Findings (pure, one module per cause)
    diagnosis/    Findings               -> Diagnosis + Report (ranked, rendered text/JSON)
    incident/     Diagnosis              -> what the channel should see (new / thread / quiet)
    notify/       Report                 -> Slack Block Kit, delivery, button clicks
"""

__version__ = "0.1.0"
