#include "totvs.ch"
#include "erpbridge.ch"

/*
 erpbridge_staging.prw: the ERP job of erpbridge's `staging` sink (won_deals.sink = "staging").

 The bridge writes each won CRM deal into the staging tables ZB1 (header, ZB1_STATUS "0") and ZB2
 (items); this job makes a sales order of each with MATA410 and writes the outcome back on the
 header: "2" and ZB1_NUMPED (the bridge puts the number on the deal), or "3" and ZB1_ERRO (the
 bridge puts the reason on the deal and lists it in `erpbridge errors`). The steps are those of
 docs/protheus.md, "What the ERP job does"; erp/protheus/erpjob is the stand-in the tests run.

 Schedule it (SIGACFG Schedule, or an [ONSTART] job) per company and branch, e.g. every minute:
   U_ERPBSTG({"01", "01"})
 ZB1 and ZB2 must be in the dictionary (SX2, SX3, SIX order 1 = the unique key), exclusive like
 SC5; with other aliases ([won_deals.staging] header, items), replace ZB1 and ZB2 below.
 Requires the custom field C5_XCRMID (C 24) in SX3, as the order route does.

 Written for this project and kept syntactically careful, but NOT compiled or run on a real
 Protheus here: compile it into the RPO with erpbridge.ch beside it and check it on your release
 (docs/protheus.md, "Compiling the ERP-side sources").
*/

#define ERPB_BATCH   100        // headers picked per run (step 1)
#define ERPB_WAITING "0"
#define ERPB_WORKING "1"
#define ERPB_DONE    "2"
#define ERPB_ERROR   "3"

// ERPBSTG runs the job once for the company and branch of aParam ({cEmpresa, cFilial}).
User Function ERPBSTG(aParam)
    Local cEmp := "01"
    Local cFil := "01"
    Local nDone := 0
    If ValType(aParam) == "A" .And. Len(aParam) >= 2
        cEmp := aParam[1]
        cFil := aParam[2]
    EndIf
    RpcSetType(3)   // no license is used
    If !RpcSetEnv(cEmp, cFil, , , "FAT")
        ConOut("erpbridge staging job " + ERPBRIDGE_VERSION + ": cannot open company " + cEmp + ", branch " + cFil)
        Return .F.
    EndIf
    ConOut("erpbridge staging job " + ERPBRIDGE_VERSION + ": company " + cEmp + ", branch " + cFil)
    nDone := ErpbRun()
    ConOut("erpbridge staging job " + ERPBRIDGE_VERSION + ": " + cValToChar(nDone) + " deal(s) processed")
    RpcClearEnv()
Return .T.

// ErpbRun handles a batch of waiting headers of the current branch; it returns how many it
// claimed.
Static Function ErpbRun()
    Local aRecnos := ErpbPick()
    Local nDone   := 0
    Local nI      := 0
    For nI := 1 To Len(aRecnos)
        If ErpbClaim(aRecnos[nI])
            ErpbOrder(aRecnos[nI])
            nDone++
        EndIf
    Next
Return nDone

// ErpbPick (step 1): the waiting headers of the branch, oldest first, at most ERPB_BATCH.
Static Function ErpbPick()
    Local aRecnos := {}
    Local cAlias  := GetNextAlias()
    Local oStmt   := FWPreparedStatement():New("SELECT R_E_C_N_O_ REC FROM " + RetSqlName("ZB1") + ;
                         " WHERE ZB1_FILIAL = ? AND ZB1_STATUS = ? AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_")
    oStmt:SetString(1, xFilial("ZB1"))
    oStmt:SetString(2, ERPB_WAITING)
    MPSysOpenQuery(oStmt:GetFixQuery(), cAlias)
    While !(cAlias)->(Eof()) .And. Len(aRecnos) < ERPB_BATCH
        aAdd(aRecnos, (cAlias)->REC)
        (cAlias)->(DbSkip())
    EndDo
    (cAlias)->(DbCloseArea())
    oStmt:Destroy()
Return aRecnos

// ErpbClaim (step 2): moves the header from "0" to "1" under its lock, adding one attempt;
// .F. when another job took it first (or it is gone).
Static Function ErpbClaim(nRec)
    Local lClaimed := .F.
    DbSelectArea("ZB1")
    ZB1->(DbGoTo(nRec))
    If ZB1->(Eof()) .Or. ZB1->(Deleted())
        Return .F.
    EndIf
    If ZB1->(RecLock("ZB1", .F.))
        If ZB1->ZB1_STATUS == ERPB_WAITING   // re-checked under the lock
            ZB1->ZB1_STATUS := ERPB_WORKING
            ZB1->ZB1_TENTAT := ZB1->ZB1_TENTAT + 1
            lClaimed := .T.
        EndIf
        ZB1->(MsUnlock())
    EndIf
Return lClaimed

// ErpbOrder (steps 3 to 5) makes the order of the claimed header nRec, or finds the one a
// previous run made, and writes the outcome. A runtime error puts the header back to "0"
// for the next run (the deal id check of step 3 keeps that safe).
Static Function ErpbOrder(nRec)
    Local bError  := ErrorBlock({|oErr| Break(oErr)})
    Local cDeal   := ""
    Local cNum    := ""
    Local oError  := Nil
    Private lMsErroAuto    := .F.
    Private lAutoErrNoFile := .T.   // GetAutoGRLog() returns the log instead of writing a file

    Begin Sequence
        DbSelectArea("ZB1")
        ZB1->(DbGoTo(nRec))
        cDeal := ZB1->ZB1_DEALID
        // Step 3: a live order with this deal id exists (a previous run died after MATA410).
        cNum := ErpbOrderOf(cDeal)
        If Empty(cNum)
            // Step 4: the order, through MATA410.
            MSExecAuto({|a,b,c,d,e| MATA410(a,b,c,d,,,,e)}, ErpbHeader(), ErpbItems(cDeal), 3, .F., {})
            If lMsErroAuto
                ErpbOutcome(nRec, ERPB_ERROR, "", ErpbLog())
                Break()
            EndIf
            cNum := ErpbOrderOf(cDeal)   // read back by C5_XCRMID, not by position
            If Empty(cNum)
                ErpbOutcome(nRec, ERPB_ERROR, "", "order not found after MATA410 (C5_XCRMID " + AllTrim(cDeal) + ")")
                Break()
            EndIf
        EndIf
        // Step 5: the outcome.
        ErpbOutcome(nRec, ERPB_DONE, cNum, "")
    Recover Using oError
        If ValType(oError) == "O"
            ConOut("erpbridge staging job " + ERPBRIDGE_VERSION + ": deal " + AllTrim(cDeal) + ": " + oError:Description + " (back to waiting)")
            ErpbOutcome(nRec, ERPB_WAITING, "", "")
        EndIf
    End Sequence
    ErrorBlock(bError)
Return .T.

// ErpbHeader builds MATA410's header from ZB1's current row (docs/protheus.md, "Fields MATA410
// needs"): add what the install requires (C5_TIPOCLI, C5_NATUREZ, C5_TPFRETE ...).
Static Function ErpbHeader()
    Local aCabec := {}
    aAdd(aCabec, {"C5_TIPO",    If(Empty(ZB1->ZB1_TIPO), "N", ZB1->ZB1_TIPO), Nil})
    aAdd(aCabec, {"C5_CLIENTE", ZB1->ZB1_CLIENT, Nil})
    aAdd(aCabec, {"C5_LOJACLI", ZB1->ZB1_LOJA, Nil})
    aAdd(aCabec, {"C5_LOJAENT", ZB1->ZB1_LOJA, Nil})
    If !Empty(ZB1->ZB1_CONDPG)   // else the customer's A1_COND, if a trigger fills it
        aAdd(aCabec, {"C5_CONDPAG", ZB1->ZB1_CONDPG, Nil})
    EndIf
    If !Empty(ZB1->ZB1_VEND)
        aAdd(aCabec, {"C5_VEND1", ZB1->ZB1_VEND, Nil})
    EndIf
    If !Empty(ZB1->ZB1_TABELA)
        aAdd(aCabec, {"C5_TABELA", ZB1->ZB1_TABELA, Nil})
    EndIf
    If !Empty(ZB1->ZB1_MENNOT)
        aAdd(aCabec, {"C5_MENNOTA", ZB1->ZB1_MENNOT, Nil})
    EndIf
    aAdd(aCabec, {"C5_XCRMID", PadR(ZB1->ZB1_DEALID, TamSX3("C5_XCRMID")[1]), Nil})
Return aCabec

// ErpbItems builds MATA410's items from the deal's ZB2 rows, in ZB2_ITEM order.
Static Function ErpbItems(cDeal)
    Local aItens := {}
    Local aLinha := {}
    DbSelectArea("ZB2")
    ZB2->(DbSetOrder(1))   // ZB2_FILIAL + ZB2_DEALID + ZB2_ITEM
    ZB2->(DbSeek(xFilial("ZB2") + cDeal))
    While !ZB2->(Eof()) .And. ZB2->ZB2_FILIAL == xFilial("ZB2") .And. ZB2->ZB2_DEALID == cDeal
        aLinha := {}
        aAdd(aLinha, {"C6_ITEM",    ZB2->ZB2_ITEM, Nil})
        aAdd(aLinha, {"C6_PRODUTO", ZB2->ZB2_PRODUT, Nil})
        aAdd(aLinha, {"C6_QTDVEN",  ZB2->ZB2_QTDVEN, Nil})
        If ZB2->ZB2_PRCVEN > 0   // else the price table's price (check the trigger)
            aAdd(aLinha, {"C6_PRCVEN", ZB2->ZB2_PRCVEN, Nil})
            aAdd(aLinha, {"C6_PRUNIT", If(ZB2->ZB2_PRUNIT > 0, ZB2->ZB2_PRUNIT, ZB2->ZB2_PRCVEN), Nil})
            aAdd(aLinha, {"C6_VALOR",  ZB2->ZB2_VALOR, Nil})
        EndIf
        If !Empty(ZB2->ZB2_OPER)   // TES inteligente: the operation picks the TES
            aAdd(aLinha, {"C6_OPER", ZB2->ZB2_OPER, Nil})
        EndIf
        If !Empty(ZB2->ZB2_TES)    // else B1_TS (or C6_OPER above)
            aAdd(aLinha, {"C6_TES", ZB2->ZB2_TES, Nil})
        EndIf
        aAdd(aItens, aLinha)
        ZB2->(DbSkip())
    EndDo
Return aItens

// ErpbOrderOf returns C5_NUM of the live order of the branch whose C5_XCRMID is the deal, or "".
Static Function ErpbOrderOf(cDeal)
    Local cAlias := GetNextAlias()
    Local cNum   := ""
    Local oStmt  := FWPreparedStatement():New("SELECT C5_NUM FROM " + RetSqlName("SC5") + ;
                        " WHERE C5_FILIAL = ? AND C5_XCRMID = ? AND D_E_L_E_T_ = ' '")
    oStmt:SetString(1, xFilial("SC5"))
    oStmt:SetString(2, PadR(cDeal, TamSX3("C5_XCRMID")[1]))
    MPSysOpenQuery(oStmt:GetFixQuery(), cAlias)
    If !(cAlias)->(Eof())
        cNum := (cAlias)->C5_NUM
    EndIf
    (cAlias)->(DbCloseArea())
    oStmt:Destroy()
Return cNum

// ErpbOutcome writes a header's status and, with it, the order number or the reason, and
// when it was processed (ZB1_DTPROC, ZB1_HRPROC: the AppServer's date and time; the bridge does
// not read them).
Static Function ErpbOutcome(nRec, cStatus, cNum, cWhy)
    DbSelectArea("ZB1")
    ZB1->(DbGoTo(nRec))
    If ZB1->(RecLock("ZB1", .F.))
        ZB1->ZB1_STATUS := cStatus
        If !Empty(cNum)
            ZB1->ZB1_NUMPED := cNum
        EndIf
        If !Empty(cWhy)
            ZB1->ZB1_ERRO := cWhy
        EndIf
        ZB1->ZB1_DTPROC := Date()
        ZB1->ZB1_HRPROC := Time()
        ZB1->(MsUnlock())
    EndIf
Return .T.

// ErpbLog joins MsExecAuto's error log (field, value, help text) into one text: the reason the
// salesperson reads on the deal.
Static Function ErpbLog()
    Local aLog := GetAutoGRLog()
    Local cLog := ""
    Local nI   := 0
    For nI := 1 To Len(aLog)
        cLog += AllTrim(aLog[nI]) + " "
    Next
Return AllTrim(cLog)
