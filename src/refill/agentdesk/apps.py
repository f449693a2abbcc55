from django.apps import AppConfig


class AgentdeskConfig(AppConfig):
    name = "refill.agentdesk"
    label = "agentdesk"
