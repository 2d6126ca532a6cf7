"""The live dispatcher: who reads what next, shared by the service and the simulator."""

from nighthawk.live.choice import Choice, ChoiceRules
from nighthawk.live.dispatcher import Dispatcher, DispatchSettings
from nighthawk.live.state import NOBODY, StudyFacts

__all__ = ["NOBODY", "Choice", "ChoiceRules", "DispatchSettings", "Dispatcher", "StudyFacts"]
