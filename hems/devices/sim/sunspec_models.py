"""SunSpec model layouts the simulators serve, written from the SunSpec information models.

Each model is a whitespace-separated list of points in register order:
``Name:type[:scale-factor-point][:rw]``; strings are ``stringN`` (N registers).
Offsets count from the model start (ID at 0, L at 1); L is the model length after L.
tests/devices/sim checks these layouts against pysunspec2's model definitions.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from hems.devices.sim.registers import words

_COMMON = """
ID:uint16 L:uint16 Mn:string16 Md:string16 Opt:string8 Vr:string8 SN:string16 DA:uint16:rw Pad:pad
"""

_INVERTER = """
ID:uint16 L:uint16 A:uint16:A_SF AphA:uint16:A_SF AphB:uint16:A_SF AphC:uint16:A_SF A_SF:sunssf
PPVphAB:uint16:V_SF PPVphBC:uint16:V_SF PPVphCA:uint16:V_SF
PhVphA:uint16:V_SF PhVphB:uint16:V_SF PhVphC:uint16:V_SF V_SF:sunssf
W:int16:W_SF W_SF:sunssf Hz:uint16:Hz_SF Hz_SF:sunssf VA:int16:VA_SF VA_SF:sunssf
VAr:int16:VAr_SF VAr_SF:sunssf PF:int16:PF_SF PF_SF:sunssf WH:acc32:WH_SF WH_SF:sunssf
DCA:uint16:DCA_SF DCA_SF:sunssf DCV:uint16:DCV_SF DCV_SF:sunssf DCW:int16:DCW_SF DCW_SF:sunssf
TmpCab:int16:Tmp_SF TmpSnk:int16:Tmp_SF TmpTrns:int16:Tmp_SF TmpOt:int16:Tmp_SF Tmp_SF:sunssf
St:enum16 StVnd:enum16 Evt1:bitfield32 Evt2:bitfield32
EvtVnd1:bitfield32 EvtVnd2:bitfield32 EvtVnd3:bitfield32 EvtVnd4:bitfield32
"""

_NAMEPLATE = """
ID:uint16 L:uint16 DERTyp:enum16 WRtg:uint16:WRtg_SF WRtg_SF:sunssf VARtg:uint16:VARtg_SF VARtg_SF:sunssf
VArRtgQ1:int16:VArRtg_SF VArRtgQ2:int16:VArRtg_SF VArRtgQ3:int16:VArRtg_SF VArRtgQ4:int16:VArRtg_SF
VArRtg_SF:sunssf ARtg:uint16:ARtg_SF ARtg_SF:sunssf
PFRtgQ1:int16:PFRtg_SF PFRtgQ2:int16:PFRtg_SF PFRtgQ3:int16:PFRtg_SF PFRtgQ4:int16:PFRtg_SF PFRtg_SF:sunssf
WHRtg:uint16:WHRtg_SF WHRtg_SF:sunssf AhrRtg:uint16:AhrRtg_SF AhrRtg_SF:sunssf
MaxChaRte:uint16:MaxChaRte_SF MaxChaRte_SF:sunssf MaxDisChaRte:uint16:MaxDisChaRte_SF
MaxDisChaRte_SF:sunssf Pad:pad
"""

_CONTROLS = """
ID:uint16 L:uint16 Conn_WinTms:uint16::rw Conn_RvrtTms:uint16::rw Conn:enum16::rw
WMaxLimPct:uint16:WMaxLimPct_SF:rw WMaxLimPct_WinTms:uint16::rw WMaxLimPct_RvrtTms:uint16::rw
WMaxLimPct_RmpTms:uint16::rw WMaxLim_Ena:enum16::rw
OutPFSet:int16:OutPFSet_SF:rw OutPFSet_WinTms:uint16::rw OutPFSet_RvrtTms:uint16::rw
OutPFSet_RmpTms:uint16::rw OutPFSet_Ena:enum16::rw
VArWMaxPct:int16:VArPct_SF:rw VArMaxPct:int16:VArPct_SF:rw VArAvalPct:int16:VArPct_SF:rw
VArPct_WinTms:uint16::rw VArPct_RvrtTms:uint16::rw VArPct_RmpTms:uint16::rw VArPct_Mod:enum16::rw
VArPct_Ena:enum16::rw WMaxLimPct_SF:sunssf OutPFSet_SF:sunssf VArPct_SF:sunssf
"""


def _meter(ll: str) -> str:
    """Models 201-204; model 201 names its line-to-line voltages PPVphXY, the others PhVphXY."""
    return f"""
ID:uint16 L:uint16 A:int16:A_SF AphA:int16:A_SF AphB:int16:A_SF AphC:int16:A_SF A_SF:sunssf
PhV:int16:V_SF PhVphA:int16:V_SF PhVphB:int16:V_SF PhVphC:int16:V_SF
PPV:int16:V_SF {ll}AB:int16:V_SF {ll}BC:int16:V_SF {ll}CA:int16:V_SF V_SF:sunssf
Hz:int16:Hz_SF Hz_SF:sunssf W:int16:W_SF WphA:int16:W_SF WphB:int16:W_SF WphC:int16:W_SF W_SF:sunssf
VA:int16:VA_SF VAphA:int16:VA_SF VAphB:int16:VA_SF VAphC:int16:VA_SF VA_SF:sunssf
VAR:int16:VAR_SF VARphA:int16:VAR_SF VARphB:int16:VAR_SF VARphC:int16:VAR_SF VAR_SF:sunssf
PF:int16:PF_SF PFphA:int16:PF_SF PFphB:int16:PF_SF PFphC:int16:PF_SF PF_SF:sunssf
TotWhExp:acc32:TotWh_SF TotWhExpPhA:acc32:TotWh_SF TotWhExpPhB:acc32:TotWh_SF TotWhExpPhC:acc32:TotWh_SF
TotWhImp:acc32:TotWh_SF TotWhImpPhA:acc32:TotWh_SF TotWhImpPhB:acc32:TotWh_SF TotWhImpPhC:acc32:TotWh_SF
TotWh_SF:sunssf
TotVAhExp:acc32:TotVAh_SF TotVAhExpPhA:acc32:TotVAh_SF TotVAhExpPhB:acc32:TotVAh_SF
TotVAhExpPhC:acc32:TotVAh_SF TotVAhImp:acc32:TotVAh_SF TotVAhImpPhA:acc32:TotVAh_SF
TotVAhImpPhB:acc32:TotVAh_SF TotVAhImpPhC:acc32:TotVAh_SF TotVAh_SF:sunssf
TotVArhImpQ1:acc32:TotVArh_SF TotVArhImpQ1PhA:acc32:TotVArh_SF TotVArhImpQ1PhB:acc32:TotVArh_SF
TotVArhImpQ1PhC:acc32:TotVArh_SF TotVArhImpQ2:acc32:TotVArh_SF TotVArhImpQ2PhA:acc32:TotVArh_SF
TotVArhImpQ2PhB:acc32:TotVArh_SF TotVArhImpQ2PhC:acc32:TotVArh_SF
TotVArhExpQ3:acc32:TotVArh_SF TotVArhExpQ3PhA:acc32:TotVArh_SF TotVArhExpQ3PhB:acc32:TotVArh_SF
TotVArhExpQ3PhC:acc32:TotVArh_SF TotVArhExpQ4:acc32:TotVArh_SF TotVArhExpQ4PhA:acc32:TotVArh_SF
TotVArhExpQ4PhB:acc32:TotVArh_SF TotVArhExpQ4PhC:acc32:TotVArh_SF TotVArh_SF:sunssf
Evt:bitfield32
"""


def _der_phase(n: str, ll: str) -> str:
    return (f"WL{n}:int16:W_SF VAL{n}:int16:VA_SF VarL{n}:int16:Var_SF PFL{n}:int16:PF_SF "
            f"AL{n}:int16:A_SF V{ll}:uint16:V_SF VL{n}:uint16:V_SF TotWhInjL{n}:uint64:TotWh_SF "
            f"TotWhAbsL{n}:uint64:TotWh_SF TotVarhInjL{n}:uint64:TotVarh_SF TotVarhAbsL{n}:uint64:TotVarh_SF ")


_DER_MEASURE_AC = (
    "ID:uint16 L:uint16 ACType:enum16 St:enum16 InvSt:enum16 ConnSt:enum16 Alrm:bitfield32 "
    "DERMode:bitfield32 W:int16:W_SF VA:int16:VA_SF Var:int16:Var_SF PF:int16:PF_SF A:int16:A_SF "
    "LLV:uint16:V_SF LNV:uint16:V_SF Hz:uint32:Hz_SF TotWhInj:uint64:TotWh_SF TotWhAbs:uint64:TotWh_SF "
    "TotVarhInj:uint64:TotVarh_SF TotVarhAbs:uint64:TotVarh_SF TmpAmb:int16:Tmp_SF TmpCab:int16:Tmp_SF "
    "TmpSnk:int16:Tmp_SF TmpTrns:int16:Tmp_SF TmpSw:int16:Tmp_SF TmpOt:int16:Tmp_SF "
    + _der_phase("1", "L1L2") + _der_phase("2", "L2L3") + _der_phase("3", "L3L1")
    + "ThrotPct:uint16 ThrotSrc:bitfield32 A_SF:sunssf V_SF:sunssf Hz_SF:sunssf W_SF:sunssf "
    "PF_SF:sunssf VA_SF:sunssf Var_SF:sunssf TotWh_SF:sunssf TotVarh_SF:sunssf Tmp_SF:sunssf "
    "MnAlrmInfo:string32"
)

_RTG = ("WMaxRtg:uint16:W_SF WOvrExtRtg:uint16:W_SF WOvrExtRtgPF:uint16:PF_SF WUndExtRtg:uint16:W_SF "
        "WUndExtRtgPF:uint16:PF_SF VAMaxRtg:uint16:VA_SF VarMaxInjRtg:uint16:Var_SF "
        "VarMaxAbsRtg:uint16:Var_SF WChaRteMaxRtg:uint16:W_SF WDisChaRteMaxRtg:uint16:W_SF "
        "VAChaRteMaxRtg:uint16:VA_SF VADisChaRteMaxRtg:uint16:VA_SF VNomRtg:uint16:V_SF "
        "VMaxRtg:uint16:V_SF VMinRtg:uint16:V_SF AMaxRtg:uint16:A_SF PFOvrExtRtg:uint16:PF_SF "
        "PFUndExtRtg:uint16:PF_SF ReactSusceptRtg:uint16:S_SF NorOpCatRtg:enum16 AbnOpCatRtg:enum16 "
        "CtrlModes:bitfield32 IntIslandCatRtg:bitfield16 ")
_SET = ("WMax:uint16:W_SF:rw WMaxOvrExt:uint16:W_SF:rw WOvrExtPF:uint16:PF_SF:rw "
        "WMaxUndExt:uint16:W_SF:rw WUndExtPF:uint16:PF_SF:rw VAMax:uint16:VA_SF:rw "
        "VarMaxInj:uint16:Var_SF:rw VarMaxAbs:uint16:Var_SF:rw WChaRteMax:uint16:W_SF:rw "
        "WDisChaRteMax:uint16:W_SF:rw VAChaRteMax:uint16:VA_SF:rw VADisChaRteMax:uint16:VA_SF:rw "
        "VNom:uint16:V_SF:rw VMax:uint16:V_SF:rw VMin:uint16:V_SF:rw AMax:uint16:A_SF:rw "
        "PFOvrExt:uint16:PF_SF:rw PFUndExt:uint16:PF_SF:rw IntIslandCat:bitfield16::rw ")
_DER_CAPACITY = ("ID:uint16 L:uint16 " + _RTG + _SET + "W_SF:sunssf PF_SF:sunssf VA_SF:sunssf "
                 "Var_SF:sunssf V_SF:sunssf A_SF:sunssf S_SF:sunssf")

_DER_CTL_AC = """
ID:uint16 L:uint16 PFWInjEna:enum16::rw PFWInjEnaRvrt:enum16::rw PFWInjRvrtTms:uint32::rw
PFWInjRvrtRem:uint32 PFWAbsEna:enum16::rw PFWAbsEnaRvrt:enum16::rw PFWAbsRvrtTms:uint32::rw
PFWAbsRvrtRem:uint32 WMaxLimPctEna:enum16::rw WMaxLimPct:uint16:WMaxLimPct_SF:rw
WMaxLimPctRvrt:uint16:WMaxLimPct_SF:rw WMaxLimPctEnaRvrt:enum16::rw WMaxLimPctRvrtTms:uint32::rw
WMaxLimPctRvrtRem:uint32 WSetEna:enum16::rw WSetMod:enum16::rw WSet:int32:WSet_SF:rw
WSetRvrt:int32:WSet_SF:rw WSetPct:int16:WSetPct_SF:rw WSetPctRvrt:int16:WSetPct_SF:rw
WSetEnaRvrt:enum16::rw WSetRvrtTms:uint32::rw WSetRvrtRem:uint32 VarSetEna:enum16::rw
VarSetMod:enum16::rw VarSetPri:enum16::rw VarSet:int32:VarSet_SF:rw VarSetRvrt:int32:VarSet_SF:rw
VarSetPct:int16:VarSetPct_SF:rw VarSetPctRvrt:int16:VarSetPct_SF:rw VarSetEnaRvrt:enum16::rw
VarSetRvrtTms:uint32::rw VarSetRvrtRem:uint32 WRmp:uint16::rw WRmpRef:enum16::rw VarRmp:uint16::rw
AntiIslEna:enum16::rw PF_SF:sunssf WMaxLimPct_SF:sunssf WSet_SF:sunssf WSetPct_SF:sunssf
VarSet_SF:sunssf VarSetPct_SF:sunssf
PFWInj.PF:uint16:PF_SF:rw PFWInj.Ext:enum16::rw PFWInjRvrt.PF:uint16:PF_SF:rw PFWInjRvrt.Ext:enum16::rw
PFWAbs.PF:uint16:PF_SF:rw PFWAbs.Ext:enum16::rw PFWAbsRvrt.PF:uint16:PF_SF:rw PFWAbsRvrt.Ext:enum16::rw
"""

_DER_STORAGE = """
ID:uint16 L:uint16 WHRtg:uint16:WH_SF WHAvail:uint16:WH_SF SoC:uint16:Pct_SF SoH:uint16:Pct_SF
Sta:enum16 WH_SF:sunssf Pct_SF:sunssf
"""

_LAYOUTS: dict[int, str] = {
    1: _COMMON, 101: _INVERTER, 102: _INVERTER, 103: _INVERTER, 120: _NAMEPLATE, 123: _CONTROLS,
    201: _meter("PPVph"), 202: _meter("PhVph"), 203: _meter("PhVph"), 204: _meter("PhVph"),
    701: _DER_MEASURE_AC, 702: _DER_CAPACITY, 704: _DER_CTL_AC, 713: _DER_STORAGE,
}


@dataclass(frozen=True)
class Point:
    name: str
    type: str
    offset: int          # from the model start (ID at 0)
    size: int            # registers
    sf: str | None       # name of the scale-factor point, if any
    writable: bool


@dataclass(frozen=True)
class ModelLayout:
    model_id: int
    points: tuple[Point, ...]

    @property
    def length(self) -> int:
        """L: registers after the ID and L registers."""
        return sum(p.size for p in self.points) - 2

    def point(self, name: str) -> Point:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"model {self.model_id} has no point {name!r}") from None

    @functools.cached_property
    def _by_name(self) -> dict[str, Point]:
        return {p.name: p for p in self.points}


def _parse(model_id: int, text: str) -> ModelLayout:
    points: list[Point] = []
    offset = 0
    for token in text.split():
        parts = token.split(":")
        name, type_name = parts[0], parts[1]
        sf = parts[2] if len(parts) > 2 and parts[2] else None
        writable = len(parts) > 3 and parts[3] == "rw" or (len(parts) == 3 and parts[2] == "rw")
        if sf == "rw":
            sf = None
        size = int(type_name[6:]) if type_name.startswith("string") else words(type_name)
        type_name = "string" if type_name.startswith("string") else type_name
        points.append(Point(name, type_name, offset, size, sf, writable))
        offset += size
    return ModelLayout(model_id, tuple(points))


MODELS: dict[int, ModelLayout] = {mid: _parse(mid, text) for mid, text in _LAYOUTS.items()}


def layout(model_id: int) -> ModelLayout:
    try:
        return MODELS[model_id]
    except KeyError:
        raise KeyError(f"no SunSpec layout for model {model_id}; known: {sorted(MODELS)}") from None
